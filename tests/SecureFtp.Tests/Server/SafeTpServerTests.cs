using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;
using SecureFtp.Tests.Client;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.SafeTp;
using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>X-SafeTP1 (RFC 2228 ADAT) offered by the embedded server and by the proxy in front of a real vsftpd,
/// driven by the project's client half of the mechanism over real sockets.</summary>
public class SafeTpServerTests(PlainVsftpdFixture vsftpd) : IClassFixture<PlainVsftpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-safetp-server-").FullName;
    private readonly MemoryTrustStore _store = new();

    private FtpClientOptions ClientOptions() => new() { Host = "127.0.0.1", AcceptNewKey = true, ClientKeyPath = Path.Combine(_work, "client.key") };

    private static void WithSafeTp(SecureFtpServerOptions options)
        => options.AddSafeTp(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1024 });

    private async Task<(FtpControlConnection Control, Rfc2228SecuritySession Session)> NegotiateAsync(int port)
    {
        var control = await FtpControlConnection.OpenAsync("127.0.0.1", port, TimeSpan.FromSeconds(30), new UTF8Encoding(false), CancellationToken.None);
        var transcript = ControlTranscript.AttachTo(control);
        Assert220(await control.ReadReplyAsync(CancellationToken.None));
        // The digest check (DIGT, seed 000 s.5.10) runs inside the negotiation: a mismatch would throw here.
        var mechanism = SafeTpMechanism.CreateClient(ClientOptions(), _store, transcript);
        var session = await mechanism.NegotiateAsync(control, new SecurityNegotiationContext(ClientOptions()), CancellationToken.None);
        return (control, Assert.IsType<Rfc2228SecuritySession>(session));
    }

    private static async Task ProtectDataAsync(FtpControlConnection control, Rfc2228SecuritySession session)
    {
        var pbsz = Expect(200, await control.ExecuteAsync("PBSZ " + session.ProposedBufferSize, CancellationToken.None));
        session.SetBufferSize(int.Parse(Regex.Match(pbsz.Message, @"PBSZ=(\d+)").Groups[1].Value));
        Expect(200, await control.ExecuteAsync("PROT P", CancellationToken.None));
    }

    private static async Task<Stream> OpenDataAsync(FtpControlConnection control, string command, Rfc2228SecuritySession session)
    {
        var pasv = Expect(227, await control.ExecuteAsync("PASV", CancellationToken.None));
        var endPoint = ServerDataChannel.ParseHostPort(pasv.Message.Split('(', ')')[1])!;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        Expect(150, await control.ExecuteAsync(command, CancellationToken.None));
        return await session.OpenDataStreamAsync(new NetworkStream(socket, ownsSocket: true), DataProtectionLevel.Private, DataStreamRole.Client, CancellationToken.None);
    }

    private static async Task<byte[]> DownloadAsync(FtpControlConnection control, string command, Rfc2228SecuritySession session)
    {
        var received = new MemoryStream();
        using (var data = await OpenDataAsync(control, command, session))
        {
            await data.CopyToAsync(received);
            Assert.True(((ProtectedDataStream)data).ReachedEndOfFile);
        }
        Expect(226, await control.ReadReplyAsync(CancellationToken.None));
        return received.ToArray();
    }

    private static async Task UploadAsync(FtpControlConnection control, string command, Rfc2228SecuritySession session, byte[] payload)
    {
        using (var data = await OpenDataAsync(control, command, session))
            await data.WriteAsync(payload);
        Expect(226, await control.ReadReplyAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EmbeddedServerOffersSafeTpWithProtectedCommandsAndData()
    {
        await using var server = await RunningServer.StartRootAsync(WithSafeTp);
        var served = RandomNumberGenerator.GetBytes(400_000);
        File.WriteAllBytes(server.LocalPath("served.bin"), served);
        var (control, session) = await NegotiateAsync(server.Port);
        using var _c = control;
        using var _s = session;
        Assert.Equal("Example Corp FTP", session.Details.PeerName);

        // Secure enough for the RequireSecure policy: the login is accepted, and it travels protected.
        var user = Expect(331, await control.ExecuteAsync("USER " + RunningServer.UserName, CancellationToken.None));
        Assert.True(user.WasProtected);
        Expect(230, await control.ExecuteAsync("PASS " + RunningServer.Password, CancellationToken.None));
        var feat = Expect(211, await control.ExecuteAsync("FEAT", CancellationToken.None));
        Assert.Contains(feat.Lines, l => l.Trim() == "AUTH TLS;TLS-C;SSL;TLS-P;X-SafeTP1");
        Expect(534, await control.ExecuteAsync("CCC", CancellationToken.None));
        await ProtectDataAsync(control, session);

        Assert.Equal(served, await DownloadAsync(control, "RETR served.bin", session));
        var upload = RandomNumberGenerator.GetBytes(333_333);
        await UploadAsync(control, "STOR up.bin", session, upload);
        Assert.Equal(upload, File.ReadAllBytes(server.LocalPath("up.bin")));
        var listing = Encoding.UTF8.GetString(await DownloadAsync(control, "NLST", session));
        Assert.Equal(new[] { "served.bin", "up.bin" }, listing.Split("\r\n", StringSplitOptions.RemoveEmptyEntries));

        // RFC 4217 s.13 applied to RFC 2228: REIN's reply is protected, then the session is back in cleartext.
        var rein = Expect(220, await control.ExecuteAsync("REIN", CancellationToken.None));
        Assert.True(rein.WasProtected);
        control.Protection = null;
        Expect(200, await control.ExecuteAsync("NOOP", CancellationToken.None));
        Expect(530, await control.ExecuteAsync("USER " + RunningServer.UserName, CancellationToken.None));

        Assert.Contains(server.Log, e => e.Message.Contains("security data exchange complete"));
        Assert.DoesNotContain(RunningServer.Password, server.LogText);
    }

    [SkippableFact]
    public async Task ProxyOffersSafeTpInFrontOfVsftpd()
    {
        vsftpd.Require();
        var served = vsftpd.CreateFile("safetp/served.bin", 250_000);
        PeerUser.GiveOwnership(Path.GetDirectoryName(served.LocalPath)!);
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{vsftpd.Port}", WithSafeTp);
        var (control, session) = await NegotiateAsync(proxy.Port);
        using var _c = control;
        using var _s = session;
        Expect(331, await control.ExecuteAsync("USER " + vsftpd.User, CancellationToken.None));
        Expect(230, await control.ExecuteAsync("PASS " + vsftpd.Password, CancellationToken.None));
        await ProtectDataAsync(control, session);
        Expect(250, await control.ExecuteAsync("CWD safetp", CancellationToken.None));

        var received = await DownloadAsync(control, "RETR served.bin", session);
        Assert.Equal(served.Sha256, Convert.ToHexString(SHA256.HashData(received)));
        var upload = RandomNumberGenerator.GetBytes(210_000);
        await UploadAsync(control, "STOR up.bin", session, upload);
        Assert.Equal(upload, File.ReadAllBytes(vsftpd.LocalPath("safetp/up.bin")));
        // Seed 000 s.6.3 under X-SafeTP1 data protection, and s.6.5.
        Expect(502, await control.ExecuteAsync("XQZW", CancellationToken.None));
        Expect(534, await control.ExecuteAsync("CCC", CancellationToken.None));
        Assert.DoesNotContain(vsftpd.Password, proxy.LogText);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
