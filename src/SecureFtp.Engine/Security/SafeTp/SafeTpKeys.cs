using System;
using System.IO;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using SecureFtp.Trust;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>A server's DSA key, branded with a name (the SafeTP paper, s.5.2). Holds the private key: keep it on the server.</summary>
    public sealed class SafeTpServerKey
    {
        internal SafeTpServerKey(DsaPrivateKeyParameters privateKey, string brand)
        {
            PrivateKey = privateKey;
            var p = privateKey.Parameters;
            PublicKey = new DsaPublicKeyParameters(p.G.ModPow(privateKey.X, p.P), p);
            Brand = brand;
            PublicKeyEncoding = SafeTpKeys.EncodeDsaPublicKey(PublicKey);
            Fingerprint = KeyFingerprint.Compute(PublicKeyEncoding);
            BrandSignature = SafeTpDsa.Sign(privateKey, SafeTpKeys.BrandSignedData(PublicKeyEncoding, brand));
        }

        internal DsaPrivateKeyParameters PrivateKey { get; }
        internal DsaPublicKeyParameters PublicKey { get; }
        internal (BigInteger R, BigInteger S) BrandSignature { get; }

        /// <summary>The server's name the key carries, shown to users on first contact.</summary>
        public string Brand { get; }

        /// <summary>Bits of the DSA modulus p: 2048 (new keys), 3072, or 1024 (the paper's size; still loaded).</summary>
        public int Bits => PublicKey.Parameters.P.BitLength;

        /// <summary>The public key as X-SafeTP1 encodes it (mpi p, q, g, y): what trust stores keep.</summary>
        public byte[] PublicKeyEncoding { get; }

        /// <summary>SHA-256 of <see cref="PublicKeyEncoding"/>, upper-case hex with colons.</summary>
        public string Fingerprint { get; }
    }

    /// <summary>A client's ElGamal key (the SafeTP paper, s.5.2): the master key of each session is encrypted to it.</summary>
    public sealed class SafeTpClientKey
    {
        internal SafeTpClientKey(BigInteger p, BigInteger g, BigInteger x)
        {
            P = p; G = g; X = x;
            Y = g.ModPow(x, p);
        }

        internal BigInteger P { get; }
        internal BigInteger G { get; }
        internal BigInteger X { get; }
        internal BigInteger Y { get; }

        /// <summary>Bits of the ElGamal modulus: 768, 1024 or 2048 (the SafeTP paper, s.6.1).</summary>
        public int Bits => P.BitLength;
    }

    /// <summary>A server public key read from an exported file, for adding to a trust store out of band (s.6.2).</summary>
    public sealed class SafeTpPublicKeyInfo
    {
        internal SafeTpPublicKeyInfo(byte[] encoding, string brand, int bits)
        {
            PublicKeyEncoding = encoding;
            Brand = brand;
            Bits = bits;
            Fingerprint = KeyFingerprint.Compute(encoding);
        }

        public byte[] PublicKeyEncoding { get; }
        public string Brand { get; }
        public int Bits { get; }
        public string Fingerprint { get; }
    }

    /// <summary>Generation, files and fingerprints of X-SafeTP1 keys (docs/protocol/X-SafeTP1.md s.7).</summary>
    public static class SafeTpKeys
    {
        private const string ServerLabel = "X-SAFETP1 SERVER KEY";
        private const string ClientLabel = "X-SAFETP1 CLIENT KEY";
        private const string PublicLabel = "X-SAFETP1 SERVER PUBLIC KEY";
        private const byte FileVersion = 1;

        internal static readonly SecureRandom Random = new SecureRandom();

        /// <summary>The size of a new server key when none is asked for (docs/protocol/X-SafeTP1.md s.3.1).</summary>
        public const int DefaultServerKeyBits = 2048;

        /// <summary>Makes a branded DSA server key: 2048 bits (q 256 bits, FIPS 186-3) by default, 3072 bits (q 256),
        /// or 1024 bits (q 160, FIPS 186-2) as the paper had it. 1024-bit DSA is below what NIST SP 800-131A allows for
        /// new signatures since 2013, so it is made only on request (for peers that know nothing else); keys of that
        /// size made earlier still load and still work.</summary>
        public static SafeTpServerKey GenerateServerKey(string brand, int bits = DefaultServerKeyBits)
        {
            if (string.IsNullOrWhiteSpace(brand)) throw new ArgumentException("A server key needs a brand (the server's or organisation's name).", nameof(brand));
            DsaParametersGenerator generator;
            if (bits == 1024)
            {
                generator = new DsaParametersGenerator();
                generator.Init(1024, 80, Random);
            }
            else if (bits == 2048 || bits == 3072)
            {
                generator = new DsaParametersGenerator(new Sha256Digest());
                generator.Init(new DsaParameterGenerationParameters(bits, 256, 80, Random));
            }
            else throw new ArgumentOutOfRangeException(nameof(bits), "X-SafeTP1 server keys are DSA 2048 (the default), 3072 or 1024 bits.");
            var keyGen = new DsaKeyPairGenerator();
            keyGen.Init(new DsaKeyGenerationParameters(Random, generator.GenerateParameters()));
            var pair = keyGen.GenerateKeyPair();
            return new SafeTpServerKey((DsaPrivateKeyParameters)pair.Private, brand.Trim());
        }

        /// <summary>Makes an ElGamal client key of 768, 1024 or 2048 bits in the fixed groups of s.3.1 of the spec
        /// (the MODP groups of RFC 2409 and RFC 3526).</summary>
        public static SafeTpClientKey GenerateClientKey(int bits = 2048)
        {
            var (p, g) = SafeTpGroups.ForBits(bits);
            BigInteger x;
            do { x = new BigInteger(p.BitLength - 1, Random); } while (x.CompareTo(BigInteger.Two) < 0);
            return new SafeTpClientKey(p, g, x);
        }

        /// <summary>The client key in the user's profile (~/.config/SecureFtp or %APPDATA%\SecureFtp), as sftpc kept one per user.</summary>
        public static string DefaultClientKeyPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create), "SecureFtp", "safetp-client.key");

        /// <summary>Loads the client key at <paramref name="path"/> (default: the profile key), making and saving a
        /// 2048-bit one when the file does not exist yet (first use).</summary>
        public static SafeTpClientKey LoadOrCreateClientKey(string? path = null)
        {
            path ??= DefaultClientKeyPath;
            if (File.Exists(path)) return LoadClientKey(path);
            var key = GenerateClientKey();
            try
            {
                Save(key, path, overwrite: false);
            }
            catch (FtpException e) when (e.ErrorId == "KeyFileExists")
            {
                // Another session made the profile key first: use that one, so every session shares one key.
                return LoadClientKey(path);
            }
            return key;
        }

        /// <param name="key">The key to write, private half included.</param>
        /// <param name="path">The key file, written readable by its owner only.</param>
        /// <param name="overwrite">False: refuse (KeyFileExists) when the file exists, decided atomically.</param>
        public static void Save(SafeTpServerKey key, string path, bool overwrite = true)
        {
            var p = key.PrivateKey.Parameters;
            var body = new SafeTpWriter().U8(FileVersion).Mpi(p.P).Mpi(p.Q).Mpi(p.G).Mpi(key.PublicKey.Y).Mpi(key.PrivateKey.X).Str(key.Brand).ToArray();
            WriteOwnerOnly(path, Armor(ServerLabel, body), overwrite);
        }

        /// <param name="key">The key to write, private half included.</param>
        /// <param name="path">The key file, written readable by its owner only.</param>
        /// <param name="overwrite">False: refuse (KeyFileExists) when the file exists, decided atomically.</param>
        public static void Save(SafeTpClientKey key, string path, bool overwrite = true)
        {
            var body = new SafeTpWriter().U8(FileVersion).Mpi(key.P).Mpi(key.G).Mpi(key.Y).Mpi(key.X).ToArray();
            WriteOwnerOnly(path, Armor(ClientLabel, body), overwrite);
        }

        public static SafeTpServerKey LoadServerKey(string path)
        {
            var r = new SafeTpReader(Dearmor(File.ReadAllText(path), ServerLabel, path), "server key file " + path);
            if (r.U8() != FileVersion) throw r.Bad("an unknown version");
            BigInteger p = r.Mpi(), q = r.Mpi(), g = r.Mpi(), y = r.Mpi(), x = r.Mpi();
            string brand = r.Str();
            r.End();
            var parameters = new DsaParameters(p, q, g);
            if (!SafeTpDsa.IsValidPublicKey(p, q, g, y) || !g.ModPow(x, p).Equals(y)) throw r.Bad("the key does not check out");
            return new SafeTpServerKey(new DsaPrivateKeyParameters(x, parameters), brand);
        }

        public static SafeTpClientKey LoadClientKey(string path)
        {
            var r = new SafeTpReader(Dearmor(File.ReadAllText(path), ClientLabel, path), "client key file " + path);
            if (r.U8() != FileVersion) throw r.Bad("an unknown version");
            BigInteger p = r.Mpi(), g = r.Mpi(), y = r.Mpi(), x = r.Mpi();
            r.End();
            var key = new SafeTpClientKey(p, g, x);
            if (!key.Y.Equals(y)) throw r.Bad("the key does not check out");
            SafeTpGroups.ForBits(p.BitLength);
            return key;
        }

        /// <summary>The server's public key and brand as text, for users to install out of band (s.6.2).</summary>
        public static string ExportServerPublicKey(SafeTpServerKey key) => Armor(PublicLabel, SafeTpMessages.EncodeBrandedKey(key));

        /// <summary>Reads an exported server public key and checks its brand signature.</summary>
        public static SafeTpPublicKeyInfo ParseServerPublicKey(string text)
        {
            var r = new SafeTpReader(Dearmor(text, PublicLabel, "the public key text"), "server public key");
            var branded = SafeTpMessages.ReadBrandedKey(r);
            r.End();
            return new SafeTpPublicKeyInfo(branded.Encoding, branded.Brand, branded.Key.Parameters.P.BitLength);
        }

        internal static byte[] EncodeDsaPublicKey(DsaPublicKeyParameters key)
            => new SafeTpWriter().Mpi(key.Parameters.P).Mpi(key.Parameters.Q).Mpi(key.Parameters.G).Mpi(key.Y).ToArray();

        internal static byte[] BrandSignedData(byte[] publicKeyEncoding, string brand)
            => new SafeTpWriter().Raw(Encoding.ASCII.GetBytes("X-SafeTP1 brand\0")).Raw(publicKeyEncoding).Str(brand).ToArray();

        private static string Armor(string label, byte[] body)
        {
            var b64 = Convert.ToBase64String(body);
            var sb = new StringBuilder();
            sb.Append("-----BEGIN ").Append(label).Append("-----\n");
            for (int i = 0; i < b64.Length; i += 64) sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
            sb.Append("-----END ").Append(label).Append("-----\n");
            return sb.ToString();
        }

        private static byte[] Dearmor(string text, string label, string where)
        {
            string begin = "-----BEGIN " + label + "-----", end = "-----END " + label + "-----";
            int a = text.IndexOf(begin, StringComparison.Ordinal), b = text.IndexOf(end, StringComparison.Ordinal);
            if (a < 0 || b < a)
                throw new FtpException(FtpErrorKind.Security, "SafeTpKeyFileInvalid", $"{where} does not contain an {label} block.");
            try { return Convert.FromBase64String(text.Substring(a + begin.Length, b - a - begin.Length).Trim()); }
            catch (FormatException e) { throw new FtpException(FtpErrorKind.Security, "SafeTpKeyFileInvalid", $"The {label} in {where} is not valid base64.", inner: e); }
        }

        /// <summary>Writes a key file readable by its owner only (the SafeTP paper, s.5.2: keys are not encrypted on disk):
        /// a unique temporary file created with mode 0600, then one atomic rename (<see cref="AtomicFile"/>), so the
        /// key is never readable by others, and a crash mid-write never leaves a half key under the final name nor
        /// removes the previous one.</summary>
        private static void WriteOwnerOnly(string path, string content, bool overwrite)
            => AtomicFile.Write(path, new UTF8Encoding(false).GetBytes(content), ownerOnly: true, overwrite: overwrite);
    }

    /// <summary>DSA as X-SafeTP1 uses it: deterministic k (RFC 6979, so a weak random generator never leaks the
    /// key, the danger s.5.1 warns of), SHA-1 for a 160-bit q and SHA-256 for a 256-bit q.</summary>
    internal static class SafeTpDsa
    {
        public static (BigInteger R, BigInteger S) Sign(DsaPrivateKeyParameters key, byte[] data)
        {
            var hash = Hash(key.Parameters.Q, data);
            var signer = new DsaSigner(new HMacDsaKCalculator(key.Parameters.Q.BitLength <= 160 ? new Sha1Digest() : new Sha256Digest()));
            signer.Init(true, key);
            var rs = signer.GenerateSignature(hash);
            return (rs[0], rs[1]);
        }

        public static bool Verify(DsaPublicKeyParameters key, byte[] data, BigInteger r, BigInteger s)
        {
            var signer = new DsaSigner();
            signer.Init(false, key);
            return signer.VerifySignature(Hash(key.Parameters.Q, data), r, s);
        }

        /// <summary>Checks domain parameters and key before anything is verified with them.</summary>
        public static bool IsValidPublicKey(BigInteger p, BigInteger q, BigInteger g, BigInteger y)
        {
            int pBits = p.BitLength, qBits = q.BitLength;
            if (!((pBits == 1024 && qBits == 160) || (pBits == 2048 && (qBits == 224 || qBits == 256)) || (pBits == 3072 && qBits == 256))) return false;
            if (!p.TestBit(0) || !q.TestBit(0)) return false;
            if (!p.Subtract(BigInteger.One).Mod(q).Equals(BigInteger.Zero)) return false;
            if (g.CompareTo(BigInteger.Two) < 0 || g.CompareTo(p.Subtract(BigInteger.One)) >= 0) return false;
            if (y.CompareTo(BigInteger.Two) < 0 || y.CompareTo(p.Subtract(BigInteger.One)) >= 0) return false;
            return g.ModPow(q, p).Equals(BigInteger.One) && y.ModPow(q, p).Equals(BigInteger.One);
        }

        private static byte[] Hash(BigInteger q, byte[] data)
        {
            Org.BouncyCastle.Crypto.IDigest digest = q.BitLength <= 160 ? new Sha1Digest() : new Sha256Digest();
            digest.BlockUpdate(data, 0, data.Length);
            var result = new byte[digest.GetDigestSize()];
            digest.DoFinal(result, 0);
            return result;
        }
    }

    /// <summary>The ElGamal groups client keys live in (spec s.3.1): safe primes with generator 2 from RFC 2409
    /// (768: Oakley group 1; 1024: group 2) and RFC 3526 (2048: group 14). Fixed groups make key generation instant
    /// and rule out weak client-chosen moduli.</summary>
    internal static class SafeTpGroups
    {
        private static readonly BigInteger Group768 = new BigInteger(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF", 16);
        private static readonly BigInteger Group1024 = new BigInteger(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
            + "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16);
        private static readonly BigInteger Group2048 = new BigInteger(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
            + "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
            + "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
            + "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
            + "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16);

        public static (BigInteger P, BigInteger G) ForBits(int bits) => bits switch
        {
            768 => (Group768, BigInteger.Two),
            1024 => (Group1024, BigInteger.Two),
            2048 => (Group2048, BigInteger.Two),
            _ => throw new FtpException(FtpErrorKind.Security, "ElGamalKeyLength", $"X-SafeTP1 client keys are ElGamal 768, 1024 or 2048 bits (the SafeTP paper, s.6.1), not {bits}."),
        };

        /// <summary>True when 1 &lt; v &lt; p-1 and v^q = 1 (mod p) with q = (p-1)/2: v is in the subgroup of prime order q
        /// (the quadratic residues), where g = 2 and every honest value of these safe-prime groups lives.</summary>
        public static bool IsInPrimeOrderSubgroup(BigInteger v, BigInteger p)
        {
            var pMinusOne = p.Subtract(BigInteger.One);
            if (v.CompareTo(BigInteger.One) <= 0 || v.CompareTo(pMinusOne) >= 0) return false;
            return v.ModPow(pMinusOne.ShiftRight(1), p).Equals(BigInteger.One);
        }

        public static bool IsKnownGroup(BigInteger p, BigInteger g)
            => g.Equals(BigInteger.Two) && (p.Equals(Group768) || p.Equals(Group1024) || p.Equals(Group2048));
    }
}
