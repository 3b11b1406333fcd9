using System;
using System.Net;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>The four ADAT messages of the key exchange (spec s.3, the SafeTP paper, s.5.3), encoded and parsed.</summary>
    internal static class SafeTpMessages
    {
        public const byte ServerKeyType = 1;
        public const byte ClientKeyType = 2;
        public const byte MasterKeyType = 3;
        public const byte ClientFinishType = 4;
        public const int ChallengeLength = 20;
        private static readonly byte[] KeyExchangeLabel = Encoding.ASCII.GetBytes("X-SafeTP1 key exchange\0");

        /// <summary>mpi p, q, g, y; str brand; mpi r, s (the brand signature).</summary>
        public static byte[] EncodeBrandedKey(SafeTpServerKey key)
            => new SafeTpWriter().Raw(key.PublicKeyEncoding).Str(key.Brand).Mpi(key.BrandSignature.R).Mpi(key.BrandSignature.S).ToArray();

        public sealed class BrandedKey
        {
            public BrandedKey(DsaPublicKeyParameters key, byte[] encoding, string brand) { Key = key; Encoding = encoding; Brand = brand; }
            public DsaPublicKeyParameters Key { get; }
            public byte[] Encoding { get; }
            public string Brand { get; }
        }

        /// <summary>Reads a branded key and checks the key and its brand signature.</summary>
        public static BrandedKey ReadBrandedKey(SafeTpReader r)
        {
            int start = r.Offset;
            BigInteger p = r.Mpi(), q = r.Mpi(), g = r.Mpi(), y = r.Mpi();
            int end = r.Offset;
            string brand = r.Str();
            BigInteger sigR = r.Mpi(), sigS = r.Mpi();
            if (!SafeTpDsa.IsValidPublicKey(p, q, g, y)) throw r.Bad("the server's DSA key is not a valid 1024- or 2048-bit DSA key");
            var key = new DsaPublicKeyParameters(y, new DsaParameters(p, q, g));
            var encoding = SafeTpKeys.EncodeDsaPublicKey(key);
            if (encoding.Length != end - start) throw r.Bad("the server's DSA key is not in canonical form");
            if (!SafeTpDsa.Verify(key, SafeTpKeys.BrandSignedData(encoding, brand), sigR, sigS))
                throw new FtpException(FtpErrorKind.Security, "SafeTpBrandInvalid", $"The brand '{brand}' on the server's X-SafeTP1 key is not signed by that key.");
            return new BrandedKey(key, encoding, brand);
        }

        /// <summary>M1, the 334: type 1, branded key, u16 minimum ElGamal bits the server accepts.</summary>
        public static byte[] EncodeServerKey(SafeTpServerKey key, int minimumElGamalBits)
            => new SafeTpWriter().U8(ServerKeyType).Raw(EncodeBrandedKey(key)).U16(minimumElGamalBits).ToArray();

        /// <summary>M2, the first ADAT: type 2, mpi p, g, y of the client's ElGamal key, 20-byte client challenge.</summary>
        public static byte[] EncodeClientKey(SafeTpClientKey key, byte[] clientChallenge)
            => new SafeTpWriter().U8(ClientKeyType).Mpi(key.P).Mpi(key.G).Mpi(key.Y).Raw(clientChallenge).ToArray();

        /// <summary>The address field: u8 length (4 or 16) and the address bytes; IPv4-mapped IPv6 is sent as IPv4.</summary>
        public static byte[] EncodeAddress(IPAddress address)
        {
            var bytes = Normalize(address).GetAddressBytes();
            return new SafeTpWriter().U8((byte)bytes.Length).Raw(bytes).ToArray();
        }

        public static IPAddress ReadAddress(SafeTpReader r)
        {
            int length = r.U8();
            if (length != 4 && length != 16) throw r.Bad("an address that is neither IPv4 nor IPv6");
            return new IPAddress(r.Raw(length));
        }

        public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

        /// <summary>What the server's DSA signature in M3 covers: the label, M1, M2 and M3 up to the signature.</summary>
        public static byte[] KeyExchangeSignedData(byte[] m1, byte[] m2, byte[] m3Unsigned)
            => new SafeTpWriter().Raw(KeyExchangeLabel).Raw(m1).Raw(m2).Raw(m3Unsigned).ToArray();
    }
}
