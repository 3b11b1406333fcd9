using System;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace SecureFtp.Security.Kea
{
    /// <summary>KEA domain parameters: a 1024-bit prime p, a 160-bit prime q dividing p-1, and g of order q
    /// (NIST spec s.C). FORTEZZA shared them between KEA and the DSA keys of the same domain; so do we: a site
    /// CA signs with DSA over the same p, q, g that its users' KEA keys use.</summary>
    internal sealed class KeaDomain : IEquatable<KeaDomain>
    {
        public const int PBits = 1024;
        public const int QBits = 160;
        /// <summary>p is 1024 bits, so every public value and w travel as 128 octets.</summary>
        public const int ValueSize = PBits / 8;

        public BigInteger P { get; }
        public BigInteger Q { get; }
        public BigInteger G { get; }

        public KeaDomain(BigInteger p, BigInteger q, BigInteger g)
        {
            P = p; Q = q; G = g;
        }

        /// <summary>The SecureFtp default domain, generated once with
        /// `openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160`
        /// (FIPS 186 generation; the tests re-check primality and the order of g). A site may make its own with
        /// <see cref="Generate"/>; two parties can only agree a key when they share the domain.</summary>
        public static KeaDomain Default { get; } = new KeaDomain(
            new BigInteger("CACC36700C3404E433896301A75190867E74840F8A5D80CA40956147B261A17808CA4B6041A6D37D6E3ECAFEBE1C63F09F25ABA6236114D003820022F3E75396AE1DED93A89D2F2AFE96ACDC9CBBBA2E8546148A4FDC8FF8D9A01CB9888760239EC8CEEDCC8F383A662A8B737FEADFF3D634AB525939466FB1D0E9D07C1877A1", 16),
            new BigInteger("946EE9C5C2EDC18A19C351AB4041EE0CCD9A7149", 16),
            new BigInteger("A837DAAB9CBC4AD69DA134D4D57C94527640B224CAC47A27DC98521DE9394148590D059F016169F8F200B6E7D57E0FA7D4D3634EDAF0E5D160C15CE0B7DC4AD546C90AF93F1F27D5FDDC1890E60D893F2074B64C4E7E5626312A806BAAEB19CAE9A56EC20ED85E37932398F6EA25A5DA92F2F88FB7D2F7D02AB3C97BE39FA6DB", 16));

        /// <summary>Fresh 1024/160 parameters (FIPS 186-2), for a site that wants its own domain.</summary>
        public static KeaDomain Generate(SecureRandom random)
        {
            var generator = new DsaParametersGenerator();
            generator.Init(PBits, 80, random);
            var parameters = generator.GenerateParameters();
            return new KeaDomain(parameters.P, parameters.Q, parameters.G);
        }

        public DsaParameters ToDsaParameters() => new DsaParameters(P, Q, G);

        public static KeaDomain FromDssParms(DsaParameter parms) => new KeaDomain(parms.P, parms.Q, parms.G);

        public DsaParameter ToDssParms() => new DsaParameter(P, Q, G);

        /// <summary>RFC 3279 s.2.3.4: the 80-bit KEA parameter identifier that a KEA certificate carries instead of
        /// p, q, g: SHA-1 of the DER Dss-Parms, high 80 bits XOR low 80 bits.</summary>
        public byte[] Identifier()
        {
            var der = ToDssParms().GetDerEncoded();
            var sha1 = new Sha1Digest();
            sha1.BlockUpdate(der, 0, der.Length);
            var hash = new byte[20];
            sha1.DoFinal(hash, 0);
            var id = new byte[10];
            for (int i = 0; i < 10; i++) id[i] = (byte)(hash[i] ^ hash[i + 10]);
            return id;
        }

        /// <summary>Checks a received public value (static y or ephemeral R): 1 &lt; v &lt; p and v^q mod p = 1
        /// (NIST spec s.C, the checks a FORTEZZA card made before computing w).</summary>
        public bool IsValidPublicValue(BigInteger value) =>
            value.CompareTo(BigInteger.One) > 0 && value.CompareTo(P) < 0 && value.ModPow(Q, P).Equals(BigInteger.One);

        /// <summary>A private value in [1, q-1] and its public value g^x mod p.</summary>
        public (BigInteger Private, BigInteger Public) GenerateKeyPair(SecureRandom random)
        {
            BigInteger x;
            do { x = new BigInteger(QBits, random); } while (x.SignValue == 0 || x.CompareTo(Q) >= 0);
            return (x, G.ModPow(x, P));
        }

        /// <summary>A value as exactly <see cref="ValueSize"/> big-endian octets (left-padded with zeros).</summary>
        public static byte[] ToFixed(BigInteger value)
        {
            var raw = value.ToByteArrayUnsigned();
            if (raw.Length > ValueSize) throw new ArgumentException("Value is larger than p.", nameof(value));
            var output = new byte[ValueSize];
            Buffer.BlockCopy(raw, 0, output, ValueSize - raw.Length, raw.Length);
            return output;
        }

        public bool Equals(KeaDomain? other) => other != null && P.Equals(other.P) && Q.Equals(other.Q) && G.Equals(other.G);
        public override bool Equals(object? obj) => Equals(obj as KeaDomain);
        public override int GetHashCode() => P.GetHashCode();
    }
}
