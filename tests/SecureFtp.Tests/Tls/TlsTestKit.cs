using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Tls;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>Certificates made for this test run: a CA, a server certificate for localhost and 127.0.0.1 signed
/// by it, and one for another name. Tests hand the CA to the mechanism as its trust anchor (the system
/// store is left alone).</summary>
internal static class TestPki
{
    private static readonly Lazy<X509Certificate2> s_ca = new(() =>
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=SecureFtp Test CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    });

    public static X509Certificate2 Ca => s_ca.Value;

    public static X509Certificate2Collection Anchors => new() { Ca };

    private static readonly Lazy<X509Certificate2> s_server = new(() => Issue("localhost", "localhost", IPAddress.Loopback));
    private static readonly Lazy<X509Certificate2> s_otherName = new(() => Issue("other.example", "other.example", IPAddress.Parse("192.0.2.7")));

    /// <summary>Valid for "localhost" and 127.0.0.1, signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Server => s_server.Value;

    private static readonly Lazy<X509Certificate2> s_client = new(() => Issue("secureftp-test-client", "client.example", IPAddress.Parse("192.0.2.9"), clientAuth: true));

    /// <summary>A client certificate (EKU clientAuth) signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Client => s_client.Value;

    /// <summary>Signed by <see cref="Ca"/> but for other.example / 192.0.2.7 only.</summary>
    public static X509Certificate2 OtherName => s_otherName.Value;

    private static X509Certificate2 Issue(string cn, string dns, IPAddress ip, bool clientAuth = false)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dns);
        san.AddIpAddress(ip);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(clientAuth ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1") }, false));
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var cert = req.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var withKey = cert.CopyWithPrivateKey(key);
        // Round-trip through PKCS#12 so SslStream's server side on Linux gets a usable key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>Writes the certificate (followed by the CA, as a chain file) and its key as PEM files.</summary>
    public static (string certFile, string keyFile) WritePem(X509Certificate2 cert, string dir)
    {
        string certFile = Path.Combine(dir, "server.crt"), keyFile = Path.Combine(dir, "server.key");
        File.WriteAllText(certFile, cert.ExportCertificatePem() + "\n" + Ca.ExportCertificatePem() + "\n");
        File.WriteAllText(keyFile, cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        return (certFile, keyFile);
    }

    public static string Sha256Hex(X509Certificate2 cert, bool colons = true)
    {
        var hex = Convert.ToHexString(SHA256.HashData(cert.RawData));
        return colons ? string.Join(":", Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2))) : hex;
    }
}

/// <summary>Requirements that make an interop test skip locally and fail under CI=true.</summary>
internal static class TlsPeers
{
    // The test login made by tests/peers/install.sh (the interop helper's PeerUser).
    public const string User = "ftptest";
    public const string Password = "Wire-Secret-5f3a9c";
    public const string VsftpdPath = "/usr/sbin/vsftpd";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void RequireVsftpd()
    {
        string? missing = null;
        if (!File.Exists(VsftpdPath)) missing = $"vsftpd is not installed ({VsftpdPath})";
        else if (!File.ReadAllLines("/etc/passwd").Any(l => l.StartsWith(User + ":", StringComparison.Ordinal)))
            missing = $"the test login '{User}' does not exist";
        else if (Environment.UserName != "root") missing = "vsftpd needs root to run here";
        if (missing == null) return;
        missing += "; run tests/peers/install.sh as root.";
        if (IsCi) throw new InvalidOperationException("CI=true and " + missing);
        Skip.If(true, missing);
    }
}

/// <summary>A real vsftpd on 127.0.0.1 with require_ssl_reuse=YES and a config written into a temp folder.
/// (Temporary: to be replaced by the shared fixture in tests/SecureFtp.Tests/Infrastructure when it lands.)</summary>
internal sealed class Vsftpd : IDisposable
{
    private readonly Process _process;
    public string Dir { get; }
    public int Port { get; }
    public string LogFile => Path.Combine(Dir, "vsftpd.log");
    public string Home { get; }

    private Vsftpd(Process process, string dir, int port, string home)
    {
        _process = process;
        Dir = dir;
        Port = port;
        Home = home;
    }

    public static async Task<Vsftpd> StartAsync(X509Certificate2? certificate = null, params string[] extraConfig)
    {
        TlsPeers.RequireVsftpd();
        string dir = Path.Combine(Path.GetTempPath(), "secureftp-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        var (certFile, keyFile) = TestPki.WritePem(certificate ?? TestPki.Server, dir);
        File.WriteAllText(Path.Combine(dir, "ca.pem"), TestPki.Ca.ExportCertificatePem() + "\n");
        int port = FreePort();
        var config = new List<string>
        {
            "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", $"listen_port={port}", "background=NO",
            "anonymous_enable=NO", "local_enable=YES", "write_enable=YES", "seccomp_sandbox=NO",
            "ssl_enable=YES", "require_ssl_reuse=YES", "force_local_data_ssl=YES", "force_local_logins_ssl=YES",
            "allow_anon_ssl=NO", "ssl_ciphers=HIGH", $"rsa_cert_file={certFile}", $"rsa_private_key_file={keyFile}",
            $"secure_chroot_dir={Path.Combine(dir, "empty")}", "pam_service_name=vsftpd",
            "xferlog_enable=YES", "log_ftp_protocol=YES", "debug_ssl=YES", $"vsftpd_log_file={Path.Combine(dir, "vsftpd.log")}",
        };
        config.AddRange(extraConfig.Select(line => line.Replace("{dir}", dir)));
        string confFile = Path.Combine(dir, "vsftpd.conf");
        File.WriteAllText(confFile, string.Join("\n", config) + "\n");
        var process = Process.Start(new ProcessStartInfo(TlsPeers.VsftpdPath, confFile)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var server = new Vsftpd(process, dir, port, "/home/" + TlsPeers.User);
        for (int i = 0; i < 100; i++)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"vsftpd exited at start: {process.StandardError.ReadToEnd()}{process.StandardOutput.ReadToEnd()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        server.Dispose();
        throw new InvalidOperationException("vsftpd did not start listening.");
    }

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    /// <summary>A file in the login's home folder, readable by the login.</summary>
    public string PutFile(byte[] content)
    {
        string name = "tls-" + Guid.NewGuid().ToString("N") + ".bin";
        string path = Path.Combine(Home, name);
        File.WriteAllBytes(path, content);
        return name;
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Drives a session through FtpControlConnection directly, as the client will.</summary>
internal sealed class TlsTestSession : IDisposable
{
    public FtpControlConnection Control { get; }
    public ISecuritySession Security { get; }
    public List<string> Warnings { get; }

    private TlsTestSession(FtpControlConnection control, ISecuritySession security, List<string> warnings)
    {
        Control = control;
        Security = security;
        Warnings = warnings;
    }

    public static FtpClientOptions Options(string host, System.Security.Authentication.SslProtocols? protocols = null) => new()
    {
        Host = host,
        TlsProtocols = protocols,
        DataTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>Connects, AUTH TLS, logs in, PBSZ 0 and PROT P.</summary>
    public static async Task<TlsTestSession> LoginAsync(string host, int port, FtpClientOptions options, X509Certificate2Collection? anchors = null,
        string mechanismName = "TLS", bool implicitTls = false)
    {
        var control = await FtpControlConnection.OpenAsync(host, port, TimeSpan.FromSeconds(20), Encoding.UTF8, CancellationToken.None);
        var warnings = new List<string>();
        var context = new SecurityNegotiationContext(options) { Warn = warnings.Add };
        try
        {
            ISecuritySession? security;
            if (implicitTls)
            {
                security = await TlsClientMechanism.NegotiateImplicitAsync(control, context, anchors, CancellationToken.None);
                Expect(await control.ReadReplyAsync(CancellationToken.None), 220);
            }
            else
            {
                Expect(await control.ReadReplyAsync(CancellationToken.None), 220);
                security = await new TlsClientMechanism(mechanismName) { TrustAnchors = anchors }.NegotiateAsync(control, context, CancellationToken.None);
                Assert.NotNull(security);
            }
            var session = new TlsTestSession(control, security!, warnings);
            Expect(await control.ExecuteAsync("USER " + TlsPeers.User, CancellationToken.None), 331);
            Expect(await control.ExecuteAsync("PASS " + TlsPeers.Password, CancellationToken.None), 230);
            Expect(await control.ExecuteAsync("PBSZ 0", CancellationToken.None), 200);
            Expect(await control.ExecuteAsync("PROT P", CancellationToken.None), 200);
            Expect(await control.ExecuteAsync("TYPE I", CancellationToken.None), 200);
            return session;
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    public static FtpReply Expect(FtpReply reply, int code)
    {
        Assert.True(reply.Code == code, $"expected {code}, got {reply}");
        return reply;
    }

    /// <summary>PASV, connect, send the command, read 150, then the TLS data handshake.</summary>
    public async Task<(Stream data, FtpReply preliminary)> OpenDataAsync(string command)
    {
        var pasv = Expect(await Control.ExecuteAsync("PASV", CancellationToken.None), 227);
        var text = pasv.Message;
        var numbers = text.Substring(text.IndexOf('(') + 1).Split(')')[0].Split(',').Select(int.Parse).ToArray();
        int port = numbers[4] * 256 + numbers[5];
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Control.RemoteEndPoint.Address, port);
        var reply = await Control.ExecuteAsync(command, CancellationToken.None);
        if (reply.Code != 150 && reply.Code != 125) { socket.Dispose(); Assert.Fail($"{command}: {reply}"); }
        var data = await Security.OpenDataStreamAsync(new NetworkStream(socket, ownsSocket: true), DataProtectionLevel.Private, DataStreamRole.Client, CancellationToken.None);
        return (data, reply);
    }

    /// <summary>RETR into memory; returns the bytes and the final reply.</summary>
    public async Task<(byte[] content, FtpReply final)> RetrieveAsync(string name)
    {
        var (data, _) = await OpenDataAsync("RETR " + name);
        var ms = new MemoryStream();
        try
        {
            await data.CopyToAsync(ms, 1 << 20);
        }
        finally { await data.DisposeAsync(); }
        return (ms.ToArray(), await Control.ReadReplyAsync(CancellationToken.None));
    }

    public async Task<FtpReply> StoreAsync(string name, byte[] content)
    {
        var (data, _) = await OpenDataAsync("STOR " + name);
        await data.WriteAsync(content);
        await data.DisposeAsync();
        return await Control.ReadReplyAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        Security.Dispose();
        Control.Dispose();
    }
}
