using System;
using System.Net;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;
using SecureFtp.Trust;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>Where the client is and what it decides about server keys (the SafeTP paper, s.5.7, s.6.2).</summary>
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
            Details.PeerName = branded.Brand;
            Details.PeerFingerprint = KeyFingerprint.Compute(branded.Encoding);
            Details.ProtocolVersion = $"X-SafeTP1 (DSA {branded.Key.Parameters.P.BitLength}, ElGamal {_clientKey.Bits})";
            DecideTrust(branded);
            if (_clientKey.Bits < minimumBits)
                throw new FtpException(FtpErrorKind.Policy, "ElGamalKeyTooShort",
                    $"{_context.Host} requires an X-SafeTP1 client key of at least {minimumBits} bits; ours has {_clientKey.Bits}.");
            _serverKey = branded;
            _m1 = m1;
            _state = State.SendClientKey;
        }

        /// <summary>Trust first time with key replication (the SafeTP paper, s.5.7, s.6.2), decided where the paper puts
        /// "the crucial moment": on the key, before our ElGamal key and challenge are sent.</summary>
        private void DecideTrust(SafeTpMessages.BrandedKey branded)
        {
            Details.TrustSource = TrustVerifier.VerifyServerKey(_context.TrustStore, _context.Host, _context.Port, _context.PeerAddress,
                TrustKeyTypes.SafeTp, branded.Encoding, branded.Brand, TrustPolicy.FromOptions(_context.Options));
        }

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
            // a = g^k must lie in the subgroup of order q = (p-1)/2 that g = 2 generates in these safe-prime groups
            // (X-SafeTP1.md s.4, M3 check 4). A hostile server that sends a value outside it (p-1, of order 2, or
            // any non-residue) makes a^x depend on our private key's parity, and learns it from whether our M4
            // verifies: refused before the private key is used.
            if (!SafeTpGroups.IsInPrimeOrderSubgroup(a, p))
                throw new FtpException(FtpErrorKind.Security, "ElGamalValueInvalid",
                    $"{_context.Host} sent an ElGamal value (a) outside the group of our key (it must satisfy 1 < a < p-1 and a^q = 1 mod p): a hostile server probing our private key, or a broken one. Nothing was decrypted with our key.");
            if (b.SignValue <= 0 || b.CompareTo(p) >= 0) throw r.Bad("the encrypted master key is out of range");
            // m = b * a^(p-1-x) mod p
            var m = b.Multiply(a.ModPow(p.Subtract(BigInteger.One).Subtract(_clientKey.X), p)).Mod(p);
            if (m.BitLength > SafeTpDirectionKeys.MasterKeyLength * 8)
                throw new FtpException(FtpErrorKind.Security, "MasterKeyInvalid", $"The master key from {_context.Host} was not encrypted to our key.");
            var masterKey = BigIntegers.AsUnsignedByteArray(SafeTpDirectionKeys.MasterKeyLength, m);
            InstallKeys(masterKey);
            Array.Clear(masterKey, 0, masterKey.Length);
            _m4 = new SafeTpWriter().U8(SafeTpMessages.ClientFinishType).Raw(SealControl(new ArraySegment<byte>(serverChallenge), SafeTpFlags.Handshake)).ToArray();
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
