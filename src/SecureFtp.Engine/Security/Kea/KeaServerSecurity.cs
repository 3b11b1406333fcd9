using System;
using System.Linq;
using Org.BouncyCastle.Math;

namespace SecureFtp.Security.Kea
{
    /// <summary>The server half of KEA-SKIPJACK (RFC 2773 Figure 1): offers Certb || Rb in the 334 reply to
    /// AUTH, checks the client's certificate and wrapped MEK, and answers 235 with its own IV.
    /// After the exchange, <see cref="AuthenticatedPeer"/> (<see cref="IsUserAllowed"/>) says which user names the
    /// client's certificate may use.</summary>
    public sealed class KeaServerSecurity : KeaSecurity
    {
        private enum Step { SendCertificate, AwaitClientData, SendIv, Done, Failed }

        private readonly KeaServerOptions _options;
        private Step _step = Step.SendCertificate;
        private BigInteger? _ephemeralPrivate;
        private byte[]? _ivField;
        private KeaCertificate? _client;

        public KeaServerSecurity(KeaServerOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
        }

        internal override bool IsClient => false;

        public override bool HasOutgoingAdat => _step == Step.SendCertificate || _step == Step.SendIv;
        public override bool ExpectingIncomingAdat => _step == Step.AwaitClientData;

        /// <summary>The client's certificate subject and fingerprint, once the exchange has completed.</summary>
        public string? ClientSubject => _client?.Subject;
        public string? ClientFingerprint => _client?.Fingerprint;

        public override byte[] GetNextOutgoingAdat()
        {
            switch (_step)
            {
                case Step.SendCertificate:
                    {
                        var ephemeral = _options.Credential.Domain.GenerateKeyPair(Random);
                        _ephemeralPrivate = ephemeral.Private;
                        _step = Step.AwaitClientData;
                        return KeaBytes.Concat(_options.Credential.Certificate.Der, KeaDomain.ToFixed(ephemeral.Public));
                    }
                case Step.SendIv:
                    _step = Step.Done;
                    return _ivField!;
                default:
                    throw KeaErrors.State("the server has no ADAT to send now");
            }
        }

        /// <summary>ADAT Base64(Certa || Ra || WMEK || IV || Encrypt(Label-Type || Label-Length || Label-List || pad || ICV)).</summary>
        public override void IncomingAdat(byte[] data)
        {
            if (_step != Step.AwaitClientData) throw KeaErrors.State("the server did not expect ADAT data now");
            // A failed exchange is over: our ephemeral value is never used for a second attempt.
            _step = Step.Failed;
            const string what = "client ADAT";
            int certificateLength = KeaCertificate.DerLength(data, 0, what);
            int fixedAfter = KeaDomain.ValueSize + Skipjack.WrappedKeySize + IvFieldSize;
            int sealedLength = data.Length - certificateLength - fixedAfter;
            if (sealedLength < 2 * Skipjack.BlockSize)
                throw KeaErrors.Malformed(what, $"{data.Length} octets cannot hold Certa, Ra, WMEK, IV and the encrypted label list");
            var certificate = KeaCertificate.Parse(data.Take(certificateLength).ToArray());
            int offset = certificateLength;
            var raOctets = new byte[KeaDomain.ValueSize];
            Buffer.BlockCopy(data, offset, raOctets, 0, raOctets.Length);
            offset += KeaDomain.ValueSize;
            int wrappedOffset = offset;
            offset += Skipjack.WrappedKeySize;
            var iv = IvFromField(data, offset, what);
            offset += IvFieldSize;

            var credential = _options.Credential;
            if (!credential.Certificate.DomainIdentifier.SequenceEqual(certificate.DomainIdentifier))
                throw KeaErrors.Security("KeaDomainMismatch",
                    $"the client certificate {certificate.Subject} is in a different KEA domain than ours: no key can be agreed");
            Details.TrustSource = TrustClient(certificate);
            Details.PeerName = certificate.Subject;
            Details.PeerFingerprint = certificate.Fingerprint;

            var tek = KeaAgreement.ComputeTek(credential.Domain, credential.PrivateValue, _ephemeralPrivate!,
                certificate.PublicValue, new BigInteger(1, raOctets));
            var mek = Skipjack.UnwrapKey(tek, data, wrappedOffset)
                ?? throw KeaErrors.Security("KeaWrongKey",
                    $"the MEK from {certificate.Subject} does not unwrap under the agreed TEK: the client does not hold the private key " +
                    "of its certificate, or the exchange was altered on the way");

            var commands = new SkipjackCbcStream(mek, iv, encrypt: false);
            var labelBlock = SealedBlock.Open(commands, data, offset, sealedLength, "client label list");
            var label = KeaSecurityLabel.Read(labelBlock, 0, labelBlock.Length, "client label list");
            if (_options.AcceptLabel != null && !_options.AcceptLabel(label))
                throw KeaErrors.Security("KeaLabelRefused", $"the label list of {certificate.Subject} ({label}) is not acceptable to this server");
            SessionLabel = label;
            _client = certificate;

            _ivField = NewIvField();
            var replies = new SkipjackCbcStream(mek, IvFromField(_ivField, 0, "server IV"), encrypt: true);
            Establish(tek, mek, raOctets, replies, commands);
            _step = Step.SendIv;
        }

        /// <summary>True when the client's certificate is mapped to <paramref name="user"/>. Call it at USER/PASS;
        /// false before the exchange has completed.</summary>
        public bool IsUserAllowed(string user) =>
            _client != null && IsEstablished && _options.Users.Allows(_client.Fingerprint, _client.Subject, user);

        /// <summary>The client's certificate, once the exchange has completed: it may log in only as the users
        /// <see cref="KeaServerOptions.Users"/> maps it to (RFC 2773).</summary>
        public override IAuthenticatedPeer? AuthenticatedPeer => _client != null && IsEstablished ? new CertificatePeer(this, _client.Subject) : null;

        private sealed class CertificatePeer : IAuthenticatedPeer
        {
            private readonly KeaServerSecurity _security;

            public CertificatePeer(KeaServerSecurity security, string name)
            {
                _security = security;
                Name = name;
            }

            public string Name { get; }

            public bool MayLogInAs(string user) => _security.IsUserAllowed(user);
        }

        internal override void CheckFileLabel(KeaSecurityLabel label)
        {
            if (_options.AcceptLabel != null && !_options.AcceptLabel(label))
                throw KeaErrors.Security("KeaLabelRefused", $"a file token carries the label {label}, which this server does not accept");
        }

        private string TrustClient(KeaCertificate certificate)
        {
            if (certificate.IsIssuedByOneOf(_options.TrustedIssuers, $"the client certificate {certificate.Subject}")) return "Chain";
            if (_options.Users.HasFingerprint(certificate.Fingerprint)) return "Pinned";
            throw KeaErrors.Security("KeaCertificateRejected",
                $"the client certificate {certificate.Subject} (fingerprint SHA256 {certificate.Fingerprint}) is neither issued by a " +
                "trusted CA nor mapped to a user on this server");
        }
    }
}
