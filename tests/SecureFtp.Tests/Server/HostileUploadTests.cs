using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using SecureFtp.Server;
using SecureFtp.Tests.Client;
using SecureFtp.Tests.Infrastructure;
using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>Uploads cut on the way (issue 12, "High, data loss"): a TLS data connection that ends without close_notify
/// (the network dropped it, or an attacker forged the TCP FIN) is not a complete file. The server answers 426, the
/// old file stays as it was, what arrived is kept for a resume, and in proxy mode the ftpd never gets the cut file as
/// whole. The client side here is a hostile one: TLS by hand, the socket closed under it.</summary>
public class HostileUploadTests(PlainVsftpdFixture vsftpd) : IClassFixture<PlainVsftpdFixture>
{
    /// <summary>PASV, the transfer command, 150, then the client side of TLS on the data connection.</summary>
    private static async Task<(Socket Socket, SslStream Tls)> OpenTlsDataAsync(RawControl control, string command)
    {
        var pasv = Expect(227, await control.SendAsync("PASV"));
        var endPoint = ServerDataChannel.ParseHostPort(pasv.Message.Split('(', ')')[1])!;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, endPoint.Port));
        Expect(150, await control.SendAsync(command));
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        return (socket, tls);
    }

    /// <summary>Sends <paramref name="payload"/> and then a bare TCP FIN: no close_notify.</summary>
    private static async Task UploadCutAsync(RawControl control, string command, byte[] payload)
    {
        var (socket, tls) = await OpenTlsDataAsync(control, command);
        await tls.WriteAsync(payload);
        await tls.FlushAsync();
        socket.Shutdown(SocketShutdown.Send);
        await Task.Delay(300);
        socket.Dispose();
        tls.Dispose();
    }

    /// <summary>Sends <paramref name="payload"/> and ends TLS properly (close_notify), as curl and lftp do.</summary>
    private static async Task UploadWholeAsync(RawControl control, string command, byte[] payload)
    {
        var (socket, tls) = await OpenTlsDataAsync(control, command);
        await tls.WriteAsync(payload);
        await tls.ShutdownAsync();
        socket.Shutdown(SocketShutdown.Send);
        var scratch = new byte[256];
        try { while (await tls.ReadAsync(scratch) > 0) { } } catch (IOException) { }
        socket.Dispose();
        tls.Dispose();
    }

    [Fact]
    public async Task A_TLS_upload_cut_without_close_notify_keeps_the_old_file_and_can_be_resumed()
    {
        await using var server = await RunningServer.StartRootAsync();
        string oldHash = server.CreateFile("report.bin", 100_000);
        var upload = RandomNumberGenerator.GetBytes(700_000);
        using var control = await server.ConnectRawAsync();
        await control.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);

        await UploadCutAsync(control, "STOR report.bin", upload.AsSpan(0, 300_000).ToArray());
        var cut = await control.ReadAsync();
        Assert.True(cut.Code is 426 or 451, $"a cut upload was answered {cut}");
        Assert.Contains("close_notify", cut.Message);
        // The old file is untouched; what arrived is kept beside it for the resume the 426 describes.
        Assert.Equal(oldHash, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(server.LocalPath("report.bin")))));
        string partial = server.LocalPath(".report.bin.partial");
        long kept = new FileInfo(partial).Length;
        Assert.Equal(300_000, kept);
        Assert.Contains($"REST {kept}", cut.Message);

        // Resume: REST, then STOR of the rest, ended properly: now the file is replaced, whole.
        Expect(350, await control.SendAsync($"REST {kept}"));
        await UploadWholeAsync(control, "STOR report.bin", upload.AsSpan((int)kept).ToArray());
        Expect(226, await control.ReadAsync());
        Assert.Equal(upload, File.ReadAllBytes(server.LocalPath("report.bin")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task A_TLS_upload_ended_with_close_notify_replaces_the_file()
    {
        await using var server = await RunningServer.StartRootAsync();
        server.CreateFile("report.bin", 100_000);
        var upload = RandomNumberGenerator.GetBytes(250_000);
        using var control = await server.ConnectRawAsync();
        await control.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
        await UploadWholeAsync(control, "STOR report.bin", upload);
        Expect(226, await control.ReadAsync());
        Assert.Equal(upload, File.ReadAllBytes(server.LocalPath("report.bin")));
    }

    [Fact]
    public async Task A_cut_APPE_is_answered_426_and_keeps_what_arrived_in_place()
    {
        await using var server = await RunningServer.StartRootAsync();
        var first = RandomNumberGenerator.GetBytes(50_000);
        File.WriteAllBytes(server.LocalPath("log.bin"), first);
        using var control = await server.ConnectRawAsync();
        await control.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
        var more = RandomNumberGenerator.GetBytes(80_000);
        await UploadCutAsync(control, "APPE log.bin", more);
        Assert.Equal(426, (await control.ReadAsync()).Code);
        Assert.Equal(first.Concat(more).ToArray(), File.ReadAllBytes(server.LocalPath("log.bin")));
    }

    /// <summary>The PASV race (RFC 4217 s.15.2.6, RFC 2577): another host connects to the passive port first. It gets
    /// nothing; the real client, from the control connection's address, gets the file.</summary>
    [Fact]
    public async Task A_data_connection_from_another_address_gets_nothing_and_the_user_gets_the_file()
    {
        await using var server = await RunningServer.StartRootAsync();
        server.CreateFile("secret.bin", 200_000);
        using var control = await server.ConnectRawAsync();
        await control.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
        var pasv = Expect(227, await control.SendAsync("PASV"));
        int port = ServerDataChannel.ParseHostPort(pasv.Message.Split('(', ')')[1])!.Port;
        using var thief = new Socket(SocketType.Stream, ProtocolType.Tcp);
        thief.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.2"), 0));
        await thief.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));

        Expect(150, await control.SendAsync("RETR secret.bin"));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        var received = new MemoryStream();
        await tls.CopyToAsync(received);
        Expect(226, await control.ReadAsync());
        Assert.Equal(File.ReadAllBytes(server.LocalPath("secret.bin")), received.ToArray());

        // The other host's connection was closed without a byte (not even a TLS handshake).
        var scratch = new byte[1024];
        int stolen;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            stolen = await thief.ReceiveAsync(scratch, SocketFlags.None, wait.Token);
        }
        catch (SocketException) { stolen = 0; }
        Assert.Equal(0, stolen);
    }

    [SkippableFact]
    public async Task The_proxy_aborts_the_ftpd_upload_when_the_client_upload_is_cut()
    {
        vsftpd.Require();
        var old = vsftpd.CreateFile("cut/report.bin", 100_000);
        PeerUser.GiveOwnership(Path.GetDirectoryName(old.LocalPath)!);
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{vsftpd.Port}");
        using var control = await proxy.ConnectRawAsync();
        await control.LoginOverTlsAsync(vsftpd.User, vsftpd.Password);
        Expect(250, await control.SendAsync("CWD cut"));
        var upload = RandomNumberGenerator.GetBytes(300_000);
        await UploadCutAsync(control, "STOR cut.bin", upload);
        var reply = await control.ReadAsync();
        Assert.Equal(426, reply.Code);
        // The ftpd saw a reset, not a clean end: it answered its side of the transfer with a failure, not 226.
        await Task.Delay(500);
        var ftpdEnd = proxy.Log.FirstOrDefault(e => e.Message.StartsWith("The ftpd ended the failed transfer with", StringComparison.Ordinal));
        Assert.True(ftpdEnd != null, proxy.LogText);
        Assert.DoesNotContain("226", ftpdEnd!.Message);
        Assert.Contains(proxy.Log, e => e.Message.Contains("close_notify"));
        // The session goes on.
        Expect(257, await control.SendAsync("PWD"));
    }
}
