using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace SecureFtp.Tests.Diagnostics;

/// <summary>vsftpd on 127.0.0.1 with a config written for one probe scenario.
/// (The interop helper's shared fixtures in tests/SecureFtp.Tests/Infrastructure replace this launcher once
/// they are on main.)</summary>
public sealed class ProbeVsftpd : IDisposable
{
    public const string User = "ftptest";
    /// <summary>Set by tests/peers/install.sh (chpasswd); the same login the interop fixtures use.</summary>
    public const string Password = "Wire-Secret-5f3a9c";

    private readonly Process _process;
    public string WorkDirectory { get; }
    public int Port { get; }
    public X509Certificate2 Certificate { get; }

    private ProbeVsftpd(string workDirectory, int port, X509Certificate2 certificate, Process process)
    {
        WorkDirectory = workDirectory;
        Port = port;
        Certificate = certificate;
        _process = process;
    }

    /// <summary>Starts vsftpd with <paramref name="settings"/> added to a base config (TLS on, local logins);
    /// skips (fails under CI=true) when vsftpd, root or the test login is missing.</summary>
    public static ProbeVsftpd Start(string settings, TimeSpan? certificateLifetime = null)
    {
        const string vsftpd = "/usr/sbin/vsftpd";
        Unavailable(!OperatingSystem.IsLinux(), "vsftpd tests run on Linux only.");
        Unavailable(!File.Exists(vsftpd), $"vsftpd is not installed ({vsftpd}); run tests/peers/install.sh as root.");
        Unavailable(!Environment.IsPrivilegedProcess, "vsftpd must be started as root.");
        Unavailable(!File.ReadLines("/etc/passwd").Any(l => l.StartsWith(User + ":")), $"the test login '{User}' does not exist; run tests/peers/install.sh.");

        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "secureftp-probe-" + Guid.NewGuid().ToString("N"))).FullName;
        Directory.CreateDirectory(Path.Combine(work, "empty"));
        var certificate = IssueCertificate(certificateLifetime ?? TimeSpan.FromDays(60), out var keyPem);
        File.WriteAllText(Path.Combine(work, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(work, "key.pem"), keyPem);
        int port = FreePort();
        File.WriteAllText(Path.Combine(work, "vsftpd.conf"), $"""
            listen=YES
            listen_ipv6=NO
            listen_address=127.0.0.1
            listen_port={port}
            background=NO
            anonymous_enable=NO
            local_enable=YES
            write_enable=NO
            secure_chroot_dir={work}/empty
            pam_service_name=vsftpd
            seccomp_sandbox=NO
            ssl_enable=YES
            rsa_cert_file={work}/cert.pem
            rsa_private_key_file={work}/key.pem
            ssl_sslv2=NO
            ssl_sslv3=NO
            log_ftp_protocol=YES
            xferlog_enable=YES
            vsftpd_log_file={work}/vsftpd.log
            {settings.Trim()}
            """.Replace("\n            ", "\n") + "\n");
        // vsftpd reports config errors on fd 0: point it at a file.
        var process = Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", $"exec {vsftpd} '{work}/vsftpd.conf' 0<>'{work}/stdin-errors.txt'" }) { UseShellExecute = false })!;
        var server = new ProbeVsftpd(work, port, certificate, process);
        for (int i = 0; i < 100; i++)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"vsftpd exited: {File.ReadAllText(Path.Combine(work, "stdin-errors.txt"))}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        server.Dispose();
        throw new InvalidOperationException("vsftpd did not start listening.");
    }

    public string Log => File.Exists(Path.Combine(WorkDirectory, "vsftpd.log")) ? File.ReadAllText(Path.Combine(WorkDirectory, "vsftpd.log")) : "";

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(WorkDirectory, recursive: true); } catch (IOException) { }
    }

    private static void Unavailable(bool missing, string reason)
    {
        if (!missing) return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("Peer unavailable under CI=true: " + reason);
        Skip.If(true, reason);
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A leaf for localhost/127.0.0.1 issued by a throw-away CA (so the chain does not validate here).</summary>
    private static X509Certificate2 IssueCertificate(TimeSpan lifetime, out string keyPem)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=SecureFtp Probe Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365));
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.Add(lifetime), serial);
        keyPem = key.ExportPkcs8PrivateKeyPem();
        return leaf;
    }
}
