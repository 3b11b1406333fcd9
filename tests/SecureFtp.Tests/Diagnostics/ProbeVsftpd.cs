using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Diagnostics;

/// <summary>The shared vsftpd fixture with a probe scenario's settings appended (vsftpd lets a later line override
/// an earlier one), serving a certificate of its own whose lifetime the test chooses (the shared test certificate
/// lives 30 days, the compliance check wants more).</summary>
public sealed class ProbeVsftpd : VsftpdFixture
{
    private readonly string _settings;

    /// <summary>The certificate this server presents.</summary>
    public X509Certificate2 Certificate { get; }
    private readonly string _keyPem;

    private ProbeVsftpd(string settings, bool implicitTls, TimeSpan certificateLifetime) : base(implicitTls)
    {
        _settings = settings;
        Certificate = IssueCertificate(certificateLifetime, out _keyPem);
    }

    /// <summary>Starts vsftpd with <paramref name="settings"/>; skips (fails under CI=true) when vsftpd, root
    /// or the test login is missing.</summary>
    public static ProbeVsftpd Start(string settings, bool implicitTls = false, TimeSpan? certificateLifetime = null)
    {
        var server = new ProbeVsftpd(settings, implicitTls, certificateLifetime ?? TimeSpan.FromDays(60));
        try { server.Require(); }
        catch { server.Dispose(); throw; }
        return server;
    }

    public string Log => ReadServerLog();

    /// <summary>The folder of this server's config and logs; the tests put their trust stores here too.</summary>
    public string Folder => WorkDirectory;

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var start = base.PrepareServer(port);
        var config = start.ArgumentList.Count > 0 ? start.ArgumentList[^1] : start.Arguments.Trim();
        var certificate = WriteWorkFile("probe-cert.pem", Certificate.ExportCertificatePem() + "\n");
        var key = WriteWorkFile("probe-key.pem", _keyPem);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.AppendAllText(config, $"rsa_cert_file={certificate}\nrsa_private_key_file={key}\n{_settings.Trim()}\n");
        return start;
    }

    /// <summary>A leaf for localhost/127.0.0.1 issued by a throw-away CA (so the chain does not validate here).</summary>
    private static X509Certificate2 IssueCertificate(TimeSpan lifetime, out string keyPem)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=SecureFtp Probe Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.Add(lifetime), serial);
        keyPem = key.ExportPkcs8PrivateKeyPem() + "\n";
        return leaf;
    }

    /// <summary>A port nothing listens on (for "implicit TLS is not offered").</summary>
    internal static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
