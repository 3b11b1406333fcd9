using System;
using System.IO;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace SecureFtp.Server
{
    /// <summary>Builds a demo certificate with BouncyCastle, so it works the same on netstandard2.0 (Windows
    /// PowerShell 5.1), which lacks CertificateRequest, and on .NET 8.</summary>
    internal static class SelfSignedCertificate
    {
        public static X509Certificate2 Create(string hostName, int validDays)
        {
            if (string.IsNullOrWhiteSpace(hostName)) throw new ArgumentException("A host name is required.", nameof(hostName));
            if (validDays < 1) throw new ArgumentOutOfRangeException(nameof(validDays));
            var random = new SecureRandom();
            var keyGenerator = new RsaKeyPairGenerator();
            keyGenerator.Init(new KeyGenerationParameters(random, 2048));
            AsymmetricCipherKeyPair keys = keyGenerator.GenerateKeyPair();

            var name = new X509Name("CN=" + hostName.Replace(",", "\\,"));
            var generator = new X509V3CertificateGenerator();
            generator.SetSerialNumber(new BigInteger(127, random).Add(BigInteger.One));
            generator.SetIssuerDN(name);
            generator.SetSubjectDN(name);
            generator.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            generator.SetNotAfter(DateTime.UtcNow.AddDays(validDays));
            generator.SetPublicKey(keys.Public);
            var altNames = IPAddress.TryParse(hostName, out _)
                ? new[] { new GeneralName(GeneralName.IPAddress, hostName) }
                : new[] { new GeneralName(GeneralName.DnsName, hostName), new GeneralName(GeneralName.IPAddress, "127.0.0.1") };
            generator.AddExtension(X509Extensions.SubjectAlternativeName, false, new DerSequence(altNames));
            generator.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
            generator.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment));
            generator.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeID.id_kp_serverAuth));
            var certificate = generator.Generate(new Asn1SignatureFactory("SHA256WITHRSA", keys.Private, random));

            // Through PKCS#12, the one format every .NET loads with its private key attached.
            var store = new Pkcs12StoreBuilder().Build();
            store.SetKeyEntry("server", new AsymmetricKeyEntry(keys.Private), new[] { new X509CertificateEntry(certificate) });
            string password = Convert.ToBase64String(SecureRandom.GetNextBytes(random, 18));
            using var pfx = new MemoryStream();
            store.Save(pfx, password.ToCharArray(), random);
            return new X509Certificate2(pfx.ToArray(), password, X509KeyStorageFlags.Exportable);
        }
    }
}
