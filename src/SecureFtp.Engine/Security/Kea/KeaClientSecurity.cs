using System;
using System.Linq;
using Org.BouncyCastle.Math;
using SecureFtp.Trust;

namespace SecureFtp.Security.Kea
{
    /// <summary>The client half of KEA-SKIPJACK (RFC 2773 Figure 1): reads Certb || Rb from the 334 reply,
    /// checks the server's certificate, agrees the TEK, sends Certa || Ra || WMEK || IV || Encrypt(labels), and
    /// takes the server's IV from the 235 reply.</summary>
    public sealed class KeaClientSecurity : KeaSecurity
    {
        private enum Step { AwaitServerCertificate, SendClientData, AwaitServerIv, Done, Failed }

        private readonly KeaClientOptions _options;
        private Step _step = Step.AwaitServerCertificate;
        private byte[]? _outgoingAdat;
        private byte[]? _ephemeral;
        private SkipjackCbcStream? _commandStream;
        private byte[]? _pendingTek;
        private byte[]? _pendingMek;

        public KeaClientSecurity(KeaClientOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            SessionLabel = options.Label;
        }

        internal override bool IsClient => true;

        public override bool HasOutgoingAdat => _step == Step.SendClientData;
        public override bool ExpectingIncomingAdat => _step == Step.AwaitServerCertificate || _step == Step.AwaitServerIv;

        public override byte[] GetNextOutgoingAdat()
        {
            if (_step != Step.SendClientData || _outgoingAdat == null) throw KeaErrors.State("the client has no ADAT to send now");
            _step = Step.AwaitServerIv;
            return _outgoingAdat;
        }

        public override void IncomingAdat(byte[] data)
        {
            var step = _step;
            if (step != Step.AwaitServerCertificate && step != Step.AwaitServerIv)
                throw KeaErrors.State("the client did not expect ADAT data now");
            // A failed exchange is over: its ephemeral value is never used for a second attempt.
            _step = Step.Failed;
            if (step == Step.AwaitServerCertificate) ReceiveServerCertificate(data);
            else ReceiveServerIv(data);
        }

        /// <summary>334 ADAT=Base64(Certb || Rb).</summary>
        private void ReceiveServerCertificate(byte[] data)
        {
            const string what = "server ADAT (Certb || Rb)";
            int certificateLength = KeaCertificate.DerLength(data, 0, what);
            if (data.Length - certificateLength != KeaDomain.ValueSize)
                throw KeaErrors.Malformed(what, $"Rb must be {KeaDomain.ValueSize} octets after the certificate, found {data.Length - certificateLength}");
            var certificate = KeaCertificate.Parse(data.Take(certificateLength).ToArray());
            var serverEphemeral = new BigInteger(1, data, certificateLength, KeaDomain.ValueSize);

            var credential = _options.Credential;
            if (!credential.Certificate.DomainIdentifier.SequenceEqual(certificate.DomainIdentifier))
                throw KeaErrors.Security("KeaDomainMismatch",
                    $"the server certificate {certificate.Subject} is in a different KEA domain than ours: no key can be agreed");
            Details.TrustSource = TrustServer(certificate);
            Details.PeerName = certificate.Subject;
            Details.PeerFingerprint = certificate.Fingerprint;

            var domain = credential.Domain;
            var ephemeral = domain.GenerateKeyPair(Random);
            var tek = KeaAgreement.ComputeTek(domain, credential.PrivateValue, ephemeral.Private, certificate.PublicValue, serverEphemeral);
            _ephemeral = KeaDomain.ToFixed(ephemeral.Public);

            var mek = NewKey();
            var ivField = NewIvField();
            _commandStream = new SkipjackCbcStream(mek, IvFromField(ivField, 0, "client IV"), encrypt: true);
            var label = new byte[KeaSecurityLabel.HeaderSize + SessionLabel.Length];
            SessionLabel.WriteTo(label, 0);
            var sealedLabel = SealedBlock.Seal(_commandStream, label, 0, label.Length);

            var own = credential.Certificate.Der;
            var wrappedMek = Skipjack.WrapKey(tek, mek);
            _outgoingAdat = KeaBytes.Concat(own, _ephemeral, wrappedMek, ivField, sealedLabel);
            _pendingTek = tek;
            _pendingMek = mek;
            _step = Step.SendClientData;
        }

        /// <summary>235 ADAT=Base64(IV): the IV of the server's replies.</summary>
        private void ReceiveServerIv(byte[] data)
        {
            if (data.Length != IvFieldSize)
                throw KeaErrors.Malformed("server IV (235 ADAT)", $"it must be {IvFieldSize} octets, found {data.Length}");
            var replies = new SkipjackCbcStream(_pendingMek!, IvFromField(data, 0, "server IV (235 ADAT)"), encrypt: false);
            Establish(_pendingTek!, _pendingMek!, _ephemeral!, _commandStream!, replies);
            _step = Step.Done;
        }

        /// <summary>Trusts the server's KEA certificate through a trusted issuer ("Chain") or the trust store
        /// (<see cref="TrustVerifier"/>: "TrustStore", "Replicated", "FirstUse"). A certificate that names a trusted
        /// issuer but does not verify under it is refused outright: that is an altered certificate, not an
        /// unknown one.</summary>
        private string TrustServer(KeaCertificate certificate)
        {
            if (certificate.IsIssuedByOneOf(_options.TrustedIssuers, $"the server certificate {certificate.Subject} from {_options.Host}"))
                return "Chain";

            var store = _options.TrustStore;
            if (store == null)
                throw KeaErrors.Trust("ServerKeyUntrusted",
                    $"{_options.Host} presented the KEA certificate {certificate.Subject} (SHA-256 {certificate.Fingerprint}), " +
                    "which no trusted CA issued, and no trust store is configured. Nothing was sent");
            // Unknown, known or changed: the same decision, messages and records as every other mechanism's keys.
            return TrustVerifier.VerifyServerKey(store, _options.Host, _options.Port, _options.PeerAddress, TrustKeyTypes.Kea,
                certificate.SubjectPublicKeyInfo, certificate.Subject, _options.Policy);
        }
    }
}
