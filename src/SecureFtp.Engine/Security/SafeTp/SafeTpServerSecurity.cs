using System;
using System.Net;
using Org.BouncyCastle.Math;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>Server policy for X-SafeTP1 (the SafeTP paper, s.6.1).</summary>
    public sealed class SafeTpServerPolicy
    {
        /// <summary>The shortest client ElGamal key accepted: 768, 1024 or 2048. The paper lets the administrator
        /// set it; 1024 by default, since 768-bit discrete logarithms are within reach today.</summary>
        public int MinimumElGamalBits { get; set; } = 1024;
    }

    /// <summary>The server half of the exchange: sends M1 (334), answers M2 with the signed M3 (335), checks M4
    /// and lets the framework send 235.</summary>
    internal sealed class SafeTpServerSecurity : SafeTpSecurity
    {
        private enum State { SendServerKey, AwaitClientKey, SendMasterKey, AwaitClientFinish, Established }

        private readonly SafeTpServerKey _key;
        private readonly IPAddress _serverAddress;
        private readonly SafeTpServerPolicy _policy;
        private State _state = State.SendServerKey;
        private byte[]? _m1;
        private byte[]? _m3;
        private byte[]? _serverChallenge;

        public SafeTpServerSecurity(SafeTpServerKey key, IPAddress serverAddress, SafeTpServerPolicy? policy) : base(isServer: true)
        {
            _key = key;
            _serverAddress = SafeTpMessages.Normalize(serverAddress);
            _policy = policy ?? new SafeTpServerPolicy();
            SafeTpGroups.ForBits(_policy.MinimumElGamalBits);
        }

        public override bool HasOutgoingAdat => _state is State.SendServerKey or State.SendMasterKey;
        public override bool ExpectingIncomingAdat => _state is State.AwaitClientKey or State.AwaitClientFinish;
        public override bool IsEstablished => _state == State.Established;

        public override byte[] GetNextOutgoingAdat()
        {
            switch (_state)
            {
                case State.SendServerKey:
                    _m1 = SafeTpMessages.EncodeServerKey(_key, _policy.MinimumElGamalBits);
                    _state = State.AwaitClientKey;
                    return _m1;
                case State.SendMasterKey:
                    _state = State.AwaitClientFinish;
                    return _m3!;
                default:
                    throw new InvalidOperationException("The X-SafeTP1 server has no ADAT to send now.");
            }
        }

        public override void IncomingAdat(byte[] data)
        {
            switch (_state)
            {
                case State.AwaitClientKey: ReceiveClientKey(data); break;
                case State.AwaitClientFinish: ReceiveClientFinish(data); break;
                default: throw new FtpException(FtpErrorKind.Protocol, "UnexpectedAdat", "The X-SafeTP1 server did not expect ADAT data now.");
            }
        }

        private void ReceiveClientKey(byte[] m2)
        {
            var r = new SafeTpReader(m2, "client key message (ADAT 1)");
            if (r.U8() != SafeTpMessages.ClientKeyType) throw r.Bad("the wrong message type");
            BigInteger p = r.Mpi(), g = r.Mpi(), y = r.Mpi();
            var clientChallenge = r.Raw(SafeTpMessages.ChallengeLength);
            r.End();
            if (!SafeTpGroups.IsKnownGroup(p, g)) throw r.Bad("the ElGamal key is not in one of the 768-, 1024- or 2048-bit groups");
            if (p.BitLength < _policy.MinimumElGamalBits)
                throw new FtpException(FtpErrorKind.Policy, "ElGamalKeyTooShort",
                    $"The client's ElGamal key has {p.BitLength} bits; this server requires at least {_policy.MinimumElGamalBits}.");
            // The client's y = g^x lies in the order-q subgroup; anything else (1, p-1, a non-residue) is not a key.
            if (!SafeTpGroups.IsInPrimeOrderSubgroup(y, p))
                throw new FtpException(FtpErrorKind.Security, "ElGamalValueInvalid",
                    "The client's ElGamal public value is outside its group (it must satisfy 1 < y < p-1 and y^q = 1 mod p): not a key made in that group.");

            _serverChallenge = SafeTpDirectionKeys.Sha1(RandomBytes(32));
            var masterKey = SafeTpDirectionKeys.Sha1(RandomBytes(64));
            // ElGamal (spec s.3.4): a = g^k, b = m * y^k mod p with m the master key as an integer.
            BigInteger k;
            do { k = new BigInteger(p.BitLength - 1, Random); } while (k.CompareTo(BigInteger.One) <= 0);
            var a = g.ModPow(k, p);
            var b = new BigInteger(1, masterKey).Multiply(y.ModPow(k, p)).Mod(p);

            var unsigned = new SafeTpWriter().U8(SafeTpMessages.MasterKeyType).Raw(_serverChallenge).Raw(clientChallenge)
                .Raw(SafeTpMessages.EncodeAddress(_serverAddress)).Mpi(a).Mpi(b).ToArray();
            var (sigR, sigS) = SafeTpDsa.Sign(_key.PrivateKey, SafeTpMessages.KeyExchangeSignedData(_m1!, m2, unsigned));
            _m3 = new SafeTpWriter().Raw(unsigned).Mpi(sigR).Mpi(sigS).ToArray();
            InstallKeys(masterKey);
            Array.Clear(masterKey, 0, masterKey.Length);
            Details.PeerName = $"ElGamal {p.BitLength}-bit client key";
            Details.ProtocolVersion = $"X-SafeTP1 (DSA {_key.Bits}, ElGamal {p.BitLength})";
            _state = State.SendMasterKey;
        }

        private void ReceiveClientFinish(byte[] m4)
        {
            if (m4.Length < 2 || m4[0] != SafeTpMessages.ClientFinishType)
                throw new FtpException(FtpErrorKind.Security, "SafeTpMalformed", "The X-SafeTP1 client finish message (ADAT 2) is malformed.");
            var challenge = OpenControl(new ArraySegment<byte>(m4, 1, m4.Length - 1), SafeTpFlags.Handshake);
            if (!FixedTimeEquals(challenge, _serverChallenge!))
                throw new FtpException(FtpErrorKind.Security, "ChallengeMismatch",
                    "The client did not return this session's challenge: the exchange is a replay or the client does not hold the session keys.");
            _state = State.Established;
        }

        internal static bool FixedTimeEquals(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < a.Length; i++) diff |= a[i] ^ b[i];
            return diff == 0;
        }

        private static byte[] RandomBytes(int n)
        {
            var bytes = new byte[n];
            Random.NextBytes(bytes);
            return bytes;
        }
    }
}
