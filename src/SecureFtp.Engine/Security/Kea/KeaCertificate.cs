using System;
using System.Collections.Generic;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using SecureFtp.Trust;

namespace SecureFtp.Security.Kea
{
    /// <summary>An X.509 certificate carrying a KEA public key, as FORTEZZA used them: subjectPublicKeyInfo with
    /// id-keyExchangeAlgorithm (2.16.840.1.101.2.1.1.22), the 80-bit KEA parameter identifier as the algorithm
    /// parameters and the public value y as the bit string (RFC 3279 s.2.3.4), signed by a DSA issuer.</summary>
    internal sealed class KeaCertificate
    {
        public static readonly DerObjectIdentifier KeaAlgorithm = new DerObjectIdentifier("2.16.840.1.101.2.1.1.22");
        /// <summary>DSA with SHA-256 (FIPS 186-3 allows the hash truncated to the 160-bit q).</summary>
        public const string SignatureAlgorithm = "SHA256WITHDSA";

        public X509Certificate Certificate { get; }
        public byte[] Der { get; }
        public BigInteger PublicValue { get; }
        public byte[] DomainIdentifier { get; }
        /// <summary>SubjectPublicKeyInfo DER: what the trust store records as the "KEA" key.</summary>
        public byte[] SubjectPublicKeyInfo { get; }
        public string Subject => Certificate.SubjectDN.ToString();
        public string Issuer => Certificate.IssuerDN.ToString();
        /// <summary>SHA-256 of the SubjectPublicKeyInfo, upper-case hex with colons (as the trust store keys it).</summary>
        public string Fingerprint => KeyFingerprint.Compute(SubjectPublicKeyInfo);

        private KeaCertificate(X509Certificate certificate, byte[] der)
        {
            Certificate = certificate;
            Der = der;
            var spki = certificate.CertificateStructure.SubjectPublicKeyInfo;
            if (!KeaAlgorithm.Equals(spki.Algorithm.Algorithm))
                throw KeaErrors.Malformed("certificate", $"its public key algorithm is {spki.Algorithm.Algorithm.Id}, not KEA (2.16.840.1.101.2.1.1.22)");
            if (!(spki.Algorithm.Parameters is Asn1OctetString parms) || parms.GetOctets().Length != 10)
                throw KeaErrors.Malformed("certificate", "the KEA algorithm parameters are not an 80-bit parameter identifier (RFC 3279 s.2.3.4)");
            DomainIdentifier = parms.GetOctets();
            var key = spki.PublicKey;
            if (key.PadBits != 0) throw KeaErrors.Malformed("certificate", "the KEA public key bit string is not whole octets");
            PublicValue = new BigInteger(1, key.GetOctets());
            SubjectPublicKeyInfo = spki.GetDerEncoded();
        }

        public static KeaCertificate Parse(byte[] der)
        {
            X509Certificate certificate;
            try
            {
                certificate = new X509CertificateParser().ReadCertificate(der)
                    ?? throw KeaErrors.Malformed("certificate", "no certificate in the data");
            }
            catch (Exception e) when (!(e is FtpException))
            {
                throw KeaErrors.Malformed("certificate", e.Message);
            }
            return new KeaCertificate(certificate, certificate.GetEncoded());
        }

        public static KeaCertificate Issue(KeaDomain domain, BigInteger publicValue, X509Name subject, X509Certificate issuerCertificate,
            DsaPrivateKeyParameters issuerKey, TimeSpan validity, SecureRandom random)
        {
            var spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(KeaAlgorithm, new DerOctetString(domain.Identifier())),
                publicValue.ToByteArrayUnsigned());
            var generator = new X509V3CertificateGenerator();
            generator.SetSerialNumber(new BigInteger(127, random).Add(BigInteger.One));
            generator.SetIssuerDN(issuerCertificate.SubjectDN);
            generator.SetSubjectDN(subject);
            var now = DateTime.UtcNow;
            generator.SetNotBefore(now.AddMinutes(-5));
            generator.SetNotAfter(now.Add(validity));
            generator.SetSubjectPublicKeyInfo(spki);
            generator.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
            generator.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.KeyAgreement));
            var certificate = generator.Generate(new Asn1SignatureFactory(SignatureAlgorithm, issuerKey, random));
            return Parse(certificate.GetEncoded());
        }

        /// <summary>True when one of <paramref name="issuers"/> issued this certificate and it is in its validity period;
        /// false when none of them is its issuer (the caller then tries its other ways of trusting it). A certificate
        /// that names a trusted issuer but does not verify under it is refused outright (KeaCertificateRejected): that
        /// is an altered certificate, not an unknown one.</summary>
        /// <param name="issuers">The trusted issuers (CA certificates) to check the signature against.</param>
        /// <param name="described">The certificate as the refusal names it: "the client certificate CN=alice".</param>
        internal bool IsIssuedByOneOf(IEnumerable<KeaIssuer> issuers, string described)
        {
            var now = DateTime.UtcNow;
            foreach (var issuer in issuers)
            {
                var problem = CheckIssuedBy(issuer.Certificate, now);
                if (problem == null) return true;
                if (Certificate.IssuerDN.Equivalent(issuer.Certificate.SubjectDN))
                    throw KeaErrors.Security("KeaCertificateRejected", $"{described} is refused: {problem}");
            }
            return false;
        }

        /// <summary>Checks that <paramref name="issuer"/> signed this certificate and that it is in its validity
        /// period. Returns null when it did, else the reason it did not.</summary>
        public string? CheckIssuedBy(X509Certificate issuer, DateTime nowUtc)
        {
            if (!Certificate.IssuerDN.Equivalent(issuer.SubjectDN)) return $"it was issued by {Issuer}, not by {issuer.SubjectDN}";
            try
            {
                Certificate.Verify(issuer.GetPublicKey());
            }
            catch (Exception)
            {
                return $"its signature does not verify under the key of {issuer.SubjectDN}: the certificate was altered or forged";
            }
            if (nowUtc < Certificate.NotBefore.ToUniversalTime()) return $"it is not valid before {Certificate.NotBefore:u}";
            if (nowUtc > Certificate.NotAfter.ToUniversalTime()) return $"it expired on {Certificate.NotAfter:u}";
            return null;
        }

        /// <summary>Splits "Cert || rest": a DER certificate is a SEQUENCE whose header gives its length, so the
        /// concatenations of RFC 2773 Figure 1 need no extra length field.</summary>
        public static int DerLength(byte[] data, int offset, string what)
        {
            if (data.Length - offset < 2 || data[offset] != 0x30)
                throw KeaErrors.Malformed(what, "it does not start with a DER certificate (SEQUENCE)");
            int first = data[offset + 1];
            int header = 2;
            long length;
            if (first < 0x80) length = first;
            else
            {
                int octets = first & 0x7f;
                if (octets == 0 || octets > 3 || data.Length - offset < 2 + octets)
                    throw KeaErrors.Malformed(what, "the certificate's DER length is not a definite length of at most 3 octets");
                length = 0;
                for (int i = 0; i < octets; i++) length = length << 8 | data[offset + 2 + i];
                header += octets;
            }
            if (offset + header + length > data.Length)
                throw KeaErrors.Malformed(what, $"the certificate claims {length} octets but only {data.Length - offset - header} follow");
            return (int)(header + length);
        }
    }
}
