using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Utilities.IO.Pem;
using Org.BouncyCastle.X509;
using SecureFtp.Trust;

namespace SecureFtp.Security.Kea
{
    /// <summary>A KEA identity: a certificate carrying a KEA public key and the static private value behind it.
    /// Clients and servers each hold one. Made by <see cref="KeaCertificateAuthority.Issue"/>; kept in a PEM file
    /// (the certificate, the issuer's certificate, and the private value), written owner-only.</summary>
    public sealed class KeaCredential
    {
        internal const string PrivateKeyPemType = "SECUREFTP KEA PRIVATE KEY";

        internal KeaCertificate Certificate { get; }
        internal BigInteger PrivateValue { get; }
        internal KeaDomain Domain { get; }
        /// <summary>The certificate of the CA that issued this one, when known (sent nowhere; kept for display).</summary>
        public KeaIssuer? Issuer { get; }

        internal KeaCredential(KeaCertificate certificate, BigInteger privateValue, KeaDomain domain, KeaIssuer? issuer)
        {
            if (!domain.G.ModPow(privateValue, domain.P).Equals(certificate.PublicValue))
                throw KeaErrors.Security("KeaKeyMismatch", $"the private KEA value does not belong to the certificate of {certificate.Subject}");
            if (!KeaBytes.FixedTimeEquals(domain.Identifier(), certificate.DomainIdentifier))
                throw KeaErrors.Security("KeaDomainMismatch", $"the certificate of {certificate.Subject} names a different KEA domain than its key");
            Certificate = certificate;
            PrivateValue = privateValue;
            Domain = domain;
            Issuer = issuer;
        }

        public string Subject => Certificate.Subject;
        public string IssuerName => Certificate.Issuer;
        /// <summary>SHA-256 of the certificate's SubjectPublicKeyInfo, upper-case hex with colons.</summary>
        public string Fingerprint => Certificate.Fingerprint;
        public DateTime NotAfterUtc => Certificate.Certificate.NotAfter.ToUniversalTime();
        public byte[] GetCertificateDer() => (byte[])Certificate.Der.Clone();

        /// <summary>Writes certificate, issuer certificate and private value to one PEM file readable by the
        /// owner only (0600 on Unix).</summary>
        public void Save(string path)
        {
            var blocks = new List<PemObject> { new PemObject("CERTIFICATE", Certificate.Der) };
            if (Issuer != null) blocks.Add(new PemObject("CERTIFICATE", Issuer.Certificate.GetEncoded()));
            var key = new DerSequence(DerInteger.ValueOf(0), Domain.ToDssParms(), new DerInteger(PrivateValue));
            blocks.Add(new PemObject(PrivateKeyPemType, key.GetDerEncoded()));
            KeaFiles.WriteOwnerOnly(path, KeaFiles.ToPem(blocks));
        }

        /// <summary>Writes only the certificate (PEM), for giving to the other side's administrator.</summary>
        public void SaveCertificate(string path) =>
            KeaFiles.WritePublic(path, KeaFiles.ToPem(new[] { new PemObject("CERTIFICATE", Certificate.Der) }));

        public static KeaCredential Load(string path)
        {
            var blocks = KeaFiles.ReadPem(path);
            KeaCertificate? certificate = null;
            KeaIssuer? issuer = null;
            byte[]? key = null;
            foreach (var block in blocks)
            {
                if (block.Type == "CERTIFICATE" && certificate == null) certificate = KeaCertificate.Parse(block.Content);
                else if (block.Type == "CERTIFICATE") issuer = KeaIssuer.FromDer(block.Content);
                else if (block.Type == PrivateKeyPemType) key = block.Content;
            }
            if (certificate == null || key == null)
                throw new FtpException(FtpErrorKind.LocalIo, "KeaCredentialUnreadable",
                    $"{KeaErrors.Mechanism}: {path} does not hold a KEA certificate and its private key");
            var sequence = Asn1Sequence.GetInstance(key);
            var domain = KeaDomain.FromDssParms(DsaParameter.GetInstance(sequence[1]));
            var privateValue = DerInteger.GetInstance(sequence[2]).Value;
            return new KeaCredential(certificate, privateValue, domain, issuer);
        }
    }

    /// <summary>A CA certificate (DSA) that KEA certificates may chain to: what a client trusts a server
    /// through, and what a server trusts its users through.</summary>
    public sealed class KeaIssuer
    {
        internal X509Certificate Certificate { get; }

        internal KeaIssuer(X509Certificate certificate) { Certificate = certificate; }

        public string Subject => Certificate.SubjectDN.ToString();
        public string Fingerprint => KeyFingerprint.Compute(Certificate.GetEncoded());
        public byte[] GetCertificateDer() => Certificate.GetEncoded();

        public static KeaIssuer FromDer(byte[] der)
        {
            try
            {
                var certificate = new X509CertificateParser().ReadCertificate(der)
                    ?? throw new FtpException(FtpErrorKind.Security, "KeaIssuerUnreadable", $"{KeaErrors.Mechanism}: no issuer certificate in the data");
                if (!(certificate.GetPublicKey() is DsaPublicKeyParameters))
                    throw new FtpException(FtpErrorKind.Security, "KeaIssuerUnreadable", $"{KeaErrors.Mechanism}: the issuer {certificate.SubjectDN} does not have a DSA key");
                return new KeaIssuer(certificate);
            }
            catch (Exception e) when (!(e is FtpException))
            {
                throw new FtpException(FtpErrorKind.Security, "KeaIssuerUnreadable", $"{KeaErrors.Mechanism}: unreadable issuer certificate: {e.Message}", null, e);
            }
        }

        /// <summary>Reads the first certificate of a PEM (or DER) file.</summary>
        public static KeaIssuer Load(string path)
        {
            var bytes = KeaFiles.ReadAllBytes(path);
            if (bytes.Length > 0 && bytes[0] == 0x30) return FromDer(bytes);
            foreach (var block in KeaFiles.ParsePem(bytes))
                if (block.Type == "CERTIFICATE") return FromDer(block.Content);
            throw new FtpException(FtpErrorKind.LocalIo, "KeaIssuerUnreadable", $"{KeaErrors.Mechanism}: {path} holds no certificate");
        }

        public void Save(string path) =>
            KeaFiles.WritePublic(path, KeaFiles.ToPem(new[] { new PemObject("CERTIFICATE", Certificate.GetEncoded()) }));
    }

    /// <summary>A small issuing CA for a site, as FORTEZZA had: a DSA key over the KEA domain's p, q, g and a
    /// self-signed certificate. It issues the KEA certificates of the site's server and users.
    /// The file it saves holds its private key: keep it off the FTP server.</summary>
    public sealed class KeaCertificateAuthority
    {
        private const string DsaPrivateKeyPemType = "DSA PRIVATE KEY";
        private readonly DsaPrivateKeyParameters _key;
        internal KeaDomain Domain { get; }
        public KeaIssuer Issuer { get; }

        private KeaCertificateAuthority(KeaDomain domain, DsaPrivateKeyParameters key, X509Certificate certificate)
        {
            Domain = domain;
            _key = key;
            Issuer = new KeaIssuer(certificate);
        }

        public string Subject => Issuer.Subject;

        /// <summary>Makes a CA. <paramref name="name"/> is a distinguished name ("CN=Example FTP CA") or a plain
        /// name that becomes the CN. <paramref name="newDomain"/> generates fresh 1024/160 domain parameters
        /// (takes seconds) instead of the SecureFtp default domain.</summary>
        public static KeaCertificateAuthority Create(string name, TimeSpan? validity = null, bool newDomain = false)
        {
            var random = new SecureRandom();
            var domain = newDomain ? KeaDomain.Generate(random) : KeaDomain.Default;
            var pair = domain.GenerateKeyPair(random);
            var dsaParameters = domain.ToDsaParameters();
            var privateKey = new DsaPrivateKeyParameters(pair.Private, dsaParameters);
            var publicKey = new DsaPublicKeyParameters(pair.Public, dsaParameters);
            var subject = ToName(name);
            var generator = new X509V3CertificateGenerator();
            generator.SetSerialNumber(new BigInteger(127, random).Add(BigInteger.One));
            generator.SetIssuerDN(subject);
            generator.SetSubjectDN(subject);
            var now = DateTime.UtcNow;
            generator.SetNotBefore(now.AddMinutes(-5));
            generator.SetNotAfter(now.Add(validity ?? TimeSpan.FromDays(3650)));
            generator.SetPublicKey(publicKey);
            generator.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(0));
            generator.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.KeyCertSign | KeyUsage.CrlSign));
            var certificate = generator.Generate(new Asn1SignatureFactory(KeaCertificate.SignatureAlgorithm, privateKey, random));
            return new KeaCertificateAuthority(domain, privateKey, certificate);
        }

        /// <summary>Makes a KEA key pair in the CA's domain and a certificate for it.</summary>
        public KeaCredential Issue(string subjectName, TimeSpan? validity = null)
        {
            var random = new SecureRandom();
            var pair = Domain.GenerateKeyPair(random);
            var certificate = KeaCertificate.Issue(Domain, pair.Public, ToName(subjectName), Issuer.Certificate, _key,
                validity ?? TimeSpan.FromDays(825), random);
            return new KeaCredential(certificate, pair.Private, Domain, Issuer);
        }

        /// <summary>Writes the CA certificate and its DSA private key (OpenSSL "DSA PRIVATE KEY" layout), owner-only.</summary>
        public void Save(string path)
        {
            var p = _key.Parameters;
            var y = p.G.ModPow(_key.X, p.P);
            var key = new DerSequence(DerInteger.ValueOf(0), new DerInteger(p.P), new DerInteger(p.Q), new DerInteger(p.G),
                new DerInteger(y), new DerInteger(_key.X));
            KeaFiles.WriteOwnerOnly(path, KeaFiles.ToPem(new[]
            {
                new PemObject("CERTIFICATE", Issuer.Certificate.GetEncoded()),
                new PemObject(DsaPrivateKeyPemType, key.GetDerEncoded()),
            }));
        }

        public static KeaCertificateAuthority Load(string path)
        {
            X509Certificate? certificate = null;
            Asn1Sequence? key = null;
            foreach (var block in KeaFiles.ReadPem(path))
            {
                if (block.Type == "CERTIFICATE" && certificate == null) certificate = KeaIssuer.FromDer(block.Content).Certificate;
                else if (block.Type == DsaPrivateKeyPemType) key = Asn1Sequence.GetInstance(block.Content);
            }
            if (certificate == null || key == null)
                throw new FtpException(FtpErrorKind.LocalIo, "KeaCaUnreadable", $"{KeaErrors.Mechanism}: {path} does not hold a CA certificate and its DSA key");
            var domain = new KeaDomain(DerInteger.GetInstance(key[1]).Value, DerInteger.GetInstance(key[2]).Value, DerInteger.GetInstance(key[3]).Value);
            var privateKey = new DsaPrivateKeyParameters(DerInteger.GetInstance(key[5]).Value, domain.ToDsaParameters());
            return new KeaCertificateAuthority(domain, privateKey, certificate);
        }

        internal static X509Name ToName(string name) =>
            name.Contains("=") ? new X509Name(name) : new X509Name("CN=" + name);
    }

    /// <summary>Reading and writing the PEM files of KEA credentials.</summary>
    internal static class KeaFiles
    {
        public static string ToPem(IEnumerable<PemObject> blocks)
        {
            using var writer = new StringWriter();
            var pem = new PemWriter(writer);
            foreach (var block in blocks) pem.WriteObject(block);
            return writer.ToString();
        }

        public static List<PemObject> ReadPem(string path) => ParsePem(ReadAllBytes(path));

        public static List<PemObject> ParsePem(byte[] bytes)
        {
            var blocks = new List<PemObject>();
            using var reader = new StringReader(Encoding.ASCII.GetString(bytes));
            var pem = new PemReader(reader);
            PemObject? block;
            while ((block = pem.ReadPemObject()) != null) blocks.Add(block);
            return blocks;
        }

        public static byte[] ReadAllBytes(string path)
        {
            try
            {
                return File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new FtpException(FtpErrorKind.LocalIo, "KeaFileUnreadable", $"{KeaErrors.Mechanism}: cannot read {path}: {e.Message}", null, e);
            }
        }

        /// <summary>Creates the file readable and writable by the owner only (Unix mode 0600, given at creation) before
        /// any secret is written into it, under a temporary name renamed over the final one (Trust.AtomicFile): a crash
        /// mid-write never leaves half a credential nor removes the previous one. On Windows the file inherits the
        /// folder's ACL (the user's profile).</summary>
        public static void WriteOwnerOnly(string path, string text)
            => SecureFtp.Trust.AtomicFile.Write(path, Encoding.ASCII.GetBytes(text), ownerOnly: true);

        public static void WritePublic(string path, string text) => SecureFtp.Trust.AtomicFile.Write(path, Encoding.ASCII.GetBytes(text), ownerOnly: false);
    }
}
