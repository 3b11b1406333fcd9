using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Tls;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>The run's test CA and server certificate (shared with the interop tests), plus certificates only
/// these tests need, issued by the same CA: one for another name and a client certificate. Tests hand the CA
/// to the mechanism as its trust anchor; the system store is left alone.</summary>
internal static class TestPki
{
    public static X509Certificate2 Ca => TestCertificates.Current.Authority;

    public static X509Certificate2Collection Anchors => new() { Ca };

    /// <summary>Valid for "localhost" and 127.0.0.1, signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Server => TestCertificates.Current.Server;

    private static readonly Lazy<X509Certificate2> s_otherName = new(() => Issue("other.example", "other.example", IPAddress.Parse("192.0.2.7")));
    private static readonly Lazy<X509Certificate2> s_client = new(() => Issue("secureftp-test-client", "client.example", IPAddress.Parse("192.0.2.9"), clientAuth: true));

    /// <summary>Signed by <see cref="Ca"/> but for other.example / 192.0.2.7 only.</summary>
    public static X509Certificate2 OtherName => s_otherName.Value;

    /// <summary>A client certificate (EKU clientAuth) signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Client => s_client.Value;

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
        serial[0] &= 0x7F;
        using var cert = req.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var withKey = cert.CopyWithPrivateKey(key);
        // Round-trip through PKCS#12 so the key is exportable (the OpenSSL backend hands it to libssl).
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    public static string Sha256Hex(X509Certificate2 cert, bool colons = true)
    {
        var hex = Convert.ToHexString(SHA256.HashData(cert.RawData));
        return colons ? string.Join(":", Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2))) : hex;
    }
}

/// <summary>The shared vsftpd fixture (require_ssl_reuse=YES, strict_ssl_read_eof=YES) with a few lines
/// appended to its config (vsftpd takes the last value of a setting): another certificate, implicit TLS,
/// client certificates. "{dir}" in a line stands for the server's work folder, which holds ca.pem.</summary>
internal sealed class TlsVsftpd : VsftpdFixture
{
    private readonly X509Certificate2? _certificate;
    private readonly string[] _extraConfig;

    private TlsVsftpd(X509Certificate2? certificate, bool implicitTls, string[] extraConfig) : base(implicitTls)
    {
        _certificate = certificate;
        _extraConfig = extraConfig;
    }

    public static TlsVsftpd Start(X509Certificate2? certificate = null, bool implicitTls = false, params string[] extraConfig)
    {
        var server = new TlsVsftpd(certificate, implicitTls, extraConfig);
        try
        {
            server.Require();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var start = base.PrepareServer(port);
        var lines = _extraConfig.Select(line => line.Replace("{dir}", WorkDirectory)).ToList();
        WriteWorkFile("ca.pem", TestPki.Ca.ExportCertificatePem() + "\n");
        if (_certificate != null)
        {
            lines.Add("rsa_cert_file=" + WriteWorkFile("alt-cert.pem", _certificate.ExportCertificatePem() + "\n"));
            lines.Add("rsa_private_key_file=" + WriteWorkFile("alt-key.pem", _certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n"));
        }
        File.AppendAllText(start.Arguments, string.Join("\n", lines) + "\n");
        return start;
    }

    /// <summary>A file in the served root; returns its name relative to the login's root.</summary>
    public string PutFile(byte[] content)
    {
        string name = "tls-" + Guid.NewGuid().ToString("N") + ".bin";
        File.WriteAllBytes(LocalPath(name), content);
        PeerUser.GiveOwnership(LocalPath(name));
        return name;
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
            Expect(await control.ExecuteAsync("USER " + PeerUser.Name, CancellationToken.None), 331);
            Expect(await control.ExecuteAsync("PASS " + PeerUser.Password, CancellationToken.None), 230);
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
