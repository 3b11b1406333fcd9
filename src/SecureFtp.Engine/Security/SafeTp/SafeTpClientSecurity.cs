using System;
using System.Linq;
using System.Net;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;
using SecureFtp.Trust;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>Where the client is and what it decides about server keys (seed 000 s.5.7, s.6.2).</summary>
    internal sealed class SafeTpClientContext
    {
        public SafeTpClientContext(string host, int port, IPAddress peerAddress, ITrustStore trustStore, FtpClientOptions options)
        {
            Host = host; Port = port; PeerAddress = SafeTpMessages.Normalize(peerAddress); TrustStore = trustStore; Options = options;
        }

        public string Host { get; }
        public int Port { get; }
        public IPAddress PeerAddress { get; }
        public ITrustStore TrustStore { get; }
        public FtpClientOptions Options { get; }
    }

    /// <summary>The client half of the exchange: checks the branded key against the trust store (M1), sends its
    /// ElGamal key and challenge (M2), verifies the signed M3 and decrypts the master key, answers with M4.</summary>
    internal sealed class SafeTpClientSecurity : SafeTpSecurity
    {
        private enum State { AwaitServerKey, SendClientKey, AwaitMasterKey, SendClientFinish, Established }

        private readonly SafeTpClientKey _clientKey;
        private readonly SafeTpClientContext _context;
        private State _state = State.AwaitServerKey;
        private byte[]? _m1;
        private byte[]? _m2;
        private byte[]? _m4;
        private byte[]? _clientChallenge;
        private SafeTpMessages.BrandedKey? _serverKey;
        private TrustedKey? _keyToRecord;

        public SafeTpClientSecurity(SafeTpClientKey clientKey, SafeTpClientContext context) : base(isServer: false)
        {
            _clientKey = clientKey;
            _context = context;
        }

        public override bool HasOutgoingAdat => _state is State.SendClientKey or State.SendClientFinish;
        public override bool ExpectingIncomingAdat => _state is State.AwaitServerKey or State.AwaitMasterKey;
        public override bool IsEstablished => _state == State.Established;

        public override byte[] GetNextOutgoingAdat()
        {
            switch (_state)
            {
                case State.SendClientKey:
                    _clientChallenge = SafeTpDirectionKeys.Sha1(RandomBytes(32));
                    _m2 = SafeTpMessages.EncodeClientKey(_clientKey, _clientChallenge);
                    _state = State.AwaitMasterKey;
                    return _m2;
                case State.SendClientFinish:
                    _state = State.Established;
                    return _m4!;
                default:
                    throw new InvalidOperationException("The X-SafeTP1 client has no ADAT to send now.");
            }
        }

        public override void IncomingAdat(byte[] data)
        {
            switch (_state)
            {
                case State.AwaitServerKey: ReceiveServerKey(data); break;
                case State.AwaitMasterKey: ReceiveMasterKey(data); break;
                default: throw new FtpException(FtpErrorKind.Protocol, "UnexpectedAdat", "The X-SafeTP1 client did not expect ADAT data now.");
            }
        }

        private void ReceiveServerKey(byte[] m1)
        {
            var r = new SafeTpReader(m1, "server key message (334)");
            if (r.U8() != SafeTpMessages.ServerKeyType) throw r.Bad("the wrong message type");
            var branded = SafeTpMessages.ReadBrandedKey(r);
            int minimumBits = r.U16();
            r.End();
            if (_clientKey.Bits < minimumBits)
                throw new FtpException(FtpErrorKind.Policy, "ElGamalKeyTooShort",
                    $"{_context.Host} requires an X-SafeTP1 client key of at least {minimumBits} bits; ours has {_clientKey.Bits}. Make a longer one with New-SecureFtpKey -Type SafeTpClient.");
            _keyToRecord = DecideTrust(branded);
            _serverKey = branded;
            _m1 = m1;
            Details.PeerName = branded.Brand;
            Details.PeerFingerprint = SafeTpKeys.Fingerprint(branded.Encoding);
            _state = State.SendClientKey;
        }

        /// <summary>Trust first time with key replication (seed 000 s.5.7, s.6.2). Returns the store entry to add once
        /// the server proved it holds the key (M3), or null when the key is already trusted for this host.</summary>
        private TrustedKey? DecideTrust(SafeTpMessages.BrandedKey branded)
        {
            string fingerprint = SafeTpKeys.Fingerprint(branded.Encoding);
            var store = _context.TrustStore;
            var options = _context.Options;
            string where = $"{_context.Host}:{_context.Port}";
            var known = store.Find(_context.Host, _context.Port, SafeTpKeys.TrustKeyType);
            if (known.Count == 0 && !_context.PeerAddress.ToString().Equals(_context.Host, StringComparison.OrdinalIgnoreCase))
                known = store.Find(_context.PeerAddress.ToString(), _context.Port, SafeTpKeys.TrustKeyType);
            if (known.Count > 0)
            {
                if (known.Any(k => string.Equals(k.Fingerprint, fingerprint, StringComparison.OrdinalIgnoreCase)))
                {
                    Details.TrustSource = "TrustStore";
                    return null;
                }
                var old = known[0];
                throw new FtpException(FtpErrorKind.Trust, "ServerKeyChanged",
                    $"The X-SafeTP1 key of {where} has CHANGED. Trusted: {old.Fingerprint} (brand '{old.Brand}'); offered now: {fingerprint} (brand '{branded.Brand}'). " +
                    "Someone may be intercepting the connection, or the server's key was replaced. Nothing was sent. If the change is expected, remove the old key with Remove-FtpTrustedKey and connect again.");
            }

            var entry = new TrustedKey
            {
                Host = _context.Host.ToLowerInvariant(), Port = _context.Port, KeyType = SafeTpKeys.TrustKeyType,
                PublicKey = branded.Encoding, Fingerprint = fingerprint, Brand = branded.Brand, AddedUtc = DateTime.UtcNow,
            };
            // Key replication: the same key already trusted for another address is a multihomed server (s.6.2).
            if (store.GetAll().Any(k => k.KeyType == SafeTpKeys.TrustKeyType && string.Equals(k.Fingerprint, fingerprint, StringComparison.OrdinalIgnoreCase)))
            {
                entry.Source = "Replicated";
                Details.TrustSource = "Replicated";
                return entry;
            }
            string description = $"{where} offers an X-SafeTP1 server key not seen before.\nBrand: {branded.Brand}\nFingerprint (SHA-256): {fingerprint}\nDSA {branded.Key.Parameters.P.BitLength} bits";
            if (options.ErrorOnUntrusted)
                throw Untrusted(where, branded.Brand, fingerprint, "the policy refuses unknown keys (-ErrorOnUntrusted)");
            if (!options.AcceptNewKey && !(options.ConfirmNewKey?.Invoke(_context.Host, description) ?? false))
                throw Untrusted(where, branded.Brand, fingerprint, options.ConfirmNewKey == null ? "nobody could be asked (use -AcceptKey, or add the key with Add-FtpTrustedKey)" : "the user declined it");
            entry.Source = "FirstUse";
            Details.TrustSource = "FirstUse";
            return entry;
        }

        private static FtpException Untrusted(string where, string brand, string fingerprint, string why) => new FtpException(FtpErrorKind.Trust, "UntrustedServerKey",
            $"The X-SafeTP1 key of {where} (brand '{brand}', fingerprint {fingerprint}) is not in the trust store and was not accepted: {why}. Nothing was sent.");

        private void ReceiveMasterKey(byte[] m3)
        {
            var r = new SafeTpReader(m3, "master key message (335)");
            if (r.U8() != SafeTpMessages.MasterKeyType) throw r.Bad("the wrong message type");
            var serverChallenge = r.Raw(SafeTpMessages.ChallengeLength);
            var echoedChallenge = r.Raw(SafeTpMessages.ChallengeLength);
            var address = SafeTpMessages.ReadAddress(r);
            BigInteger a = r.Mpi(), b = r.Mpi();
            int signedLength = r.Offset;
            BigInteger sigR = r.Mpi(), sigS = r.Mpi();
            r.End();

            var unsigned = new byte[signedLength];
            Buffer.BlockCopy(m3, 0, unsigned, 0, signedLength);
            if (!SafeTpDsa.Verify(_serverKey!.Key, SafeTpMessages.KeyExchangeSignedData(_m1!, _m2!, unsigned), sigR, sigS))
                throw new FtpException(FtpErrorKind.Security, "ServerSignatureInvalid",
                    $"The key exchange reply from {_context.Host} is not signed by the server key it presented (fingerprint {Details.PeerFingerprint}): someone on the path altered it or does not hold the server's private key.");
            if (!SafeTpServerSecurity.FixedTimeEquals(echoedChallenge, _clientChallenge!))
                throw new FtpException(FtpErrorKind.Security, "ChallengeMismatch",
                    $"{_context.Host} answered with another session's challenge: the key exchange is being replayed.");
            if (!address.Equals(_context.PeerAddress))
                throw new FtpException(FtpErrorKind.Security, "ServerAddressMismatch",
                    $"The server signed address {address}, but we are connected to {_context.PeerAddress}: the exchange was relayed from another server.");
            var p = _clientKey.P;
            if (a.CompareTo(BigInteger.One) <= 0 || a.CompareTo(p) >= 0 || b.SignValue <= 0 || b.CompareTo(p) >= 0) throw r.Bad("the encrypted master key is out of range");
            // m = b * a^(p-1-x) mod p
            var m = b.Multiply(a.ModPow(p.Subtract(BigInteger.One).Subtract(_clientKey.X), p)).Mod(p);
            if (m.BitLength > SafeTpDirectionKeys.MasterKeyLength * 8)
                throw new FtpException(FtpErrorKind.Security, "MasterKeyInvalid", $"The master key from {_context.Host} was not encrypted to our key.");
            var masterKey = BigIntegers.AsUnsignedByteArray(SafeTpDirectionKeys.MasterKeyLength, m);
            InstallKeys(masterKey);
            Array.Clear(masterKey, 0, masterKey.Length);
            _m4 = new SafeTpWriter().U8(SafeTpMessages.ClientFinishType).Raw(SealControl(new ArraySegment<byte>(serverChallenge), SafeTpFlags.Handshake)).ToArray();
            if (_keyToRecord != null) _context.TrustStore.Add(_keyToRecord);
            _state = State.SendClientFinish;
        }

        private static byte[] RandomBytes(int n)
        {
            var bytes = new byte[n];
            Random.NextBytes(bytes);
            return bytes;
        }
    }
}
