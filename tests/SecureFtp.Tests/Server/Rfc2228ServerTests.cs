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

/// <summary>X-SafeTP1 and KEA-SKIPJACK (RFC 2228 ADAT) offered by the embedded server, and X-SafeTP1 by the proxy in front of a real vsftpd,
/// driven by the project's client half of the mechanism over real sockets.</summary>
public sealed class Rfc2228ServerTests(PlainVsftpdFixture vsftpd) : IClassFixture<PlainVsftpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-safetp-server-").FullName;
    private readonly MemoryTrustStore _store = new();

    private FtpClientOptions ClientOptions() => new() { Host = "127.0.0.1", AcceptNewKey = true, ClientKeyPath = Path.Combine(_work, "client.key") };

    private static void WithSafeTp(SecureFtpServerOptions options)
        => options.AddSafeTp(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1024 });

    private async Task<(FtpControlConnection Control, Rfc2228SecuritySession Session)> NegotiateAsync(int port, Func<ControlTranscript, Rfc2228ClientMechanism>? create = null)
    {
        var control = await FtpControlConnection.OpenAsync("127.0.0.1", port, TimeSpan.FromSeconds(30), new UTF8Encoding(false), CancellationToken.None);
        var transcript = ControlTranscript.AttachTo(control);
        Assert220(await control.ReadReplyAsync(CancellationToken.None));
        // The digest check (DIGT, seed 000 s.5.10) runs inside the negotiation: a mismatch would throw here.
        var mechanism = create != null ? create(transcript) : SafeTpMechanism.CreateClient(ClientOptions(), _store, transcript);
        var session = await mechanism.NegotiateAsync(control, new SecurityNegotiationContext(ClientOptions()), CancellationToken.None);
        return (control, Assert.IsType<Rfc2228SecuritySession>(session));
    }

    private static async Task ProtectDataAsync(FtpControlConnection control, Rfc2228SecuritySession session)
    {
        var pbsz = Expect(200, await control.ExecuteAsync("PBSZ " + session.ProposedBufferSize, CancellationToken.None));
        session.SetBufferSize(int.Parse(Regex.Match(pbsz.Message, @"PBSZ=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
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

    /// <summary>A hostile client (issue 12, data loss): its upload ends without the end-of-file block, or with bytes
    /// after it. Neither is a complete file: 426, the old file untouched, what arrived kept for a resume.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_upload_cut_before_or_padded_after_its_end_of_file_block_keeps_the_old_file(bool dataAfterEndOfFile)
    {
        await using var server = await RunningServer.StartRootAsync(WithSafeTp);
        string oldHash = server.CreateFile("old.bin", 40_000);
        var (control, session) = await NegotiateAsync(server.Port);
        using var _c = control;
        using var _s = session;
        Expect(331, await control.ExecuteAsync("USER " + RunningServer.UserName, CancellationToken.None));
        Expect(230, await control.ExecuteAsync("PASS " + RunningServer.Password, CancellationToken.None));
        await ProtectDataAsync(control, session);

        var pasv = Expect(227, await control.ExecuteAsync("PASV", CancellationToken.None));
        var endPoint = ServerDataChannel.ParseHostPort(pasv.Message.Split('(', ')')[1])!;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        Expect(150, await control.ExecuteAsync("STOR old.bin", CancellationToken.None));
        var raw = new NetworkStream(socket, ownsSocket: false);
        var blocks = (ProtectedDataStream)await session.OpenDataStreamAsync(raw, DataProtectionLevel.Private, DataStreamRole.Client, CancellationToken.None);
        await blocks.WriteAsync(RandomNumberGenerator.GetBytes(120_000));
        if (dataAfterEndOfFile)
        {
            await blocks.CompleteAsync(CancellationToken.None);
            await raw.WriteAsync(RandomNumberGenerator.GetBytes(5000)); // not inside any block
        }
        else
        {
            await blocks.FlushAsync();
            blocks.Abort(); // no end-of-file block, as when the connection is cut
        }
        socket.Shutdown(SocketShutdown.Send);
        var reply = await control.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(426, reply.Code);
        Assert.Contains(dataAfterEndOfFile ? "after the end-of-file block" : "end-of-file block", reply.Message);
        Assert.Equal(oldHash, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(server.LocalPath("old.bin")))));
        Assert.True(File.Exists(server.LocalPath(".old.bin.partial")), "what arrived is kept for a resume");
    }

    [Fact]
    public async Task EmbeddedServerOffersKeaAndMapsCertificatesToUsers()
    {
        var kit = new SecureFtp.Tests.Kea.KeaTestKit();
        await using var server = await RunningServer.StartRootAsync(o => o.AddKea(kit.ServerOptions()));
        var served = RandomNumberGenerator.GetBytes(150_000);
        File.WriteAllBytes(server.LocalPath("k.bin"), served);
        var (control, session) = await NegotiateAsync(server.Port,
            transcript => new Rfc2228ClientMechanism(SecureFtp.Security.Kea.KeaMechanism.Name, (_, _) => new SecureFtp.Security.Kea.KeaClientSecurity(kit.ClientOptions()), transcript));
        using var _c = control;
        using var _s = session;
        Assert.Equal("KEA-SKIPJACK", session.Details.Mechanism);
        // Alice's certificate is mapped to "alice" only (RFC 2773).
        Expect(530, await control.ExecuteAsync("USER bob", CancellationToken.None));
        Expect(331, await control.ExecuteAsync("USER " + RunningServer.UserName, CancellationToken.None));
        Expect(230, await control.ExecuteAsync("PASS " + RunningServer.Password, CancellationToken.None));
        await ProtectDataAsync(control, session);
        Assert.Equal(served, await DownloadAsync(control, "RETR k.bin", session));
        var upload = RandomNumberGenerator.GetBytes(99_999);
        await UploadAsync(control, "STOR k-up.bin", session, upload);
        Assert.Equal(upload, File.ReadAllBytes(server.LocalPath("k-up.bin")));
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
