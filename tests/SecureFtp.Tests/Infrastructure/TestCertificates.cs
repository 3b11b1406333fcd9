using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>A CA and a server certificate made once per test run (RSA 2048, since the oldest server here,
/// ftpd-ssl, is only known to work with RSA). The server certificate names DNS:localhost and IP:127.0.0.1,
/// so both ways of reaching a test server match it.</summary>
public sealed class TestCertificates
{
    private static readonly Lazy<TestCertificates> Shared = new(() => new TestCertificates());

    /// <summary>The certificates of this test run.</summary>
    public static TestCertificates Current => Shared.Value;

    public X509Certificate2 Authority { get; }
    public X509Certificate2 Server { get; }

    /// <summary>SHA-256 of the server certificate, upper-case hex without separators.</summary>
    public string ServerSha256 => Server.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>SHA-256 of the server certificate, hex with colons (as openssl and the session view print it).</summary>
    public string ServerSha256WithColons => string.Join(":", Enumerable.Range(0, ServerSha256.Length / 2).Select(i => ServerSha256.Substring(i * 2, 2)));

    /// <summary>SHA-256 of the server certificate's SubjectPublicKeyInfo, base64 (the public-key pin form).</summary>
    public string ServerPublicKeySha256Base64 => Convert.ToBase64String(SHA256.HashData(Server.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>PEM of the server certificate, its key (PKCS#8) and the CA certificate.</summary>
    public string ServerCertificatePem { get; }
    public string ServerKeyPem { get; }
    public string AuthorityPem { get; }

    /// <summary>The CA certificate as a PEM file (for curl --cacert, lftp ssl:ca-file), written on first use
    /// and removed when the test process exits.</summary>
    public string AuthorityFile => _authorityFile.Value;

    private readonly Lazy<string> _authorityFile;

    private TestCertificates()
    {
        var now = DateTimeOffset.UtcNow;
        using var authorityKey = RSA.Create(2048);
        var authorityRequest = new CertificateRequest("CN=SecureFtp Test CA", authorityKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        Authority = authorityRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = serverRequest.Create(Authority, now.AddDays(-1), now.AddDays(30), serial);
        Server = issued.CopyWithPrivateKey(serverKey);

        ServerCertificatePem = Server.ExportCertificatePem() + "\n";
        ServerKeyPem = serverKey.ExportPkcs8PrivateKeyPem() + "\n";
        AuthorityPem = Authority.ExportCertificatePem() + "\n";
        _authorityFile = new Lazy<string>(() =>
        {
            string path = Path.Combine(Path.GetTempPath(), $"secureftp-test-ca-{Environment.ProcessId}.pem");
            File.WriteAllText(path, AuthorityPem);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
            return path;
        });
    }
}
