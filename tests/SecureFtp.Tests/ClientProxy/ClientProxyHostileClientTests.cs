using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Server;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>The proxy's listener against a local client that attacks it: floods of connections, no login, endless lines,
/// PORT at someone else, someone else racing to the passive port, commands smuggled in a line.</summary>
public sealed class ClientProxyHostileClientTests
{
    private static FtpClientOptions TlsUpstream() => new()
    {
        Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
        PinnedFingerprints = new List<string> { TestCertificates.Current.ServerSha256 },
    };

    private static async Task<RawLegacyClient> LoggedInAsync(int port)
    {
        var legacy = await RawLegacyClient.ConnectAsync(port);
        Assert.Equal(220, (await legacy.ReadReplyAsync()).Code);
        Assert.Equal(331, (await legacy.SendAsync("USER " + RunningServer.UserName)).Code);
        Assert.Equal(230, (await legacy.SendAsync("PASS " + RunningServer.Password)).Code);
        return legacy;
    }

    [Fact]
    public async Task Connections_beyond_the_per_address_limit_get_421()
    {
        await using var proxy = await RunningProxy.StartAsync(null, TlsUpstream(), o => o.MaxSessionsPerAddress = 2);
        using var a = await RawLegacyClient.ConnectAsync(proxy.Port);
        using var b = await RawLegacyClient.ConnectAsync(proxy.Port);
        Assert.Equal(220, (await a.ReadReplyAsync()).Code);
        Assert.Equal(220, (await b.ReadReplyAsync()).Code);
        using var c = await RawLegacyClient.ConnectAsync(proxy.Port);
        Assert.Equal(421, (await c.ReadReplyAsync()).Code);
        Assert.Equal(1, proxy.Proxy.RefusedSessions);
    }

    [Fact]
    public async Task A_client_that_never_logs_in_is_closed_at_the_login_deadline()
    {
        await using var proxy = await RunningProxy.StartAsync(null, TlsUpstream(), o => o.LoginTimeout = TimeSpan.FromSeconds(1));
        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        Assert.Equal(220, (await legacy.ReadReplyAsync()).Code);
        var reply = await legacy.ReadReplyAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(421, reply.Code);
        await Assert.ThrowsAnyAsync<IOException>(() => legacy.ReadReplyAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_endless_command_line_is_refused_and_the_connection_closed()
    {
        await using var proxy = await RunningProxy.StartAsync(null, TlsUpstream());
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = tcp.GetStream();
        var reader = new StreamReader(stream);
        Assert.StartsWith("220", await reader.ReadLineAsync());
        var junk = Encoding.ASCII.GetBytes(new string('A', 64 * 1024));
        try { await stream.WriteAsync(junk); } catch (IOException) { }
        string? line = await reader.ReadLineAsync();
        Assert.StartsWith("500", line);
    }

    [Fact]
    public async Task Security_commands_and_bounce_PORTs_from_the_legacy_side_are_refused()
    {
        await using var server = await RunningServer.StartRootAsync();
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        using var legacy = await LoggedInAsync(proxy.Port);
        Assert.Equal(502, (await legacy.SendAsync("AUTH TLS")).Code);
        Assert.Equal(502, (await legacy.SendAsync("CCC")).Code);
        Assert.Equal(502, (await legacy.SendAsync("PROT C")).Code);
        // PORT at another host (127.0.0.2 stands for a third party) and at a privileged port of the client.
        Assert.Equal(500, (await legacy.SendAsync("PORT 127,0,0,2,200,10")).Code);
        Assert.Equal(500, (await legacy.SendAsync("EPRT |1|127.0.0.1|25|")).Code);
        Assert.Equal(500, (await legacy.SendAsync("PORT 127,0,0,1,0,25")).Code);
        // FEAT does not advertise the upstream security to the legacy client.
        var feat = await legacy.SendAsync("FEAT");
        Assert.DoesNotContain("AUTH", feat.Text);
        Assert.DoesNotContain("PBSZ", feat.Text);
        // The session still works.
        Assert.Equal(257, (await legacy.SendAsync("PWD")).Code);
        Assert.Equal(221, (await legacy.SendAsync("QUIT")).Code);
        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && e.Message.StartsWith("CCC", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_data_connection_from_another_address_is_not_taken_for_the_clients()
    {
        await using var server = await RunningServer.StartRootAsync();
        server.CreateFile("secret.bin", 1000);
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        using var legacy = await LoggedInAsync(proxy.Port);
        var epsv = await legacy.SendAsync("EPSV");
        int port = int.Parse(epsv.Text.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture);
        // A thief from another loopback address races to the port first; it must get nothing.
        using var thief = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        thief.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
        await thief.ConnectAsync(IPAddress.Loopback, port);
        using var data = new TcpClient();
        await data.ConnectAsync(IPAddress.Loopback, port);
        await legacy.WriteAsync("RETR secret.bin");
        Assert.Equal(150, (await legacy.ReadReplyAsync()).Code);
        var received = new MemoryStream();
        await data.GetStream().CopyToAsync(received);
        Assert.Equal(226, (await legacy.ReadReplyAsync()).Code);
        Assert.Equal(1000, received.Length);
        var stolen = new byte[16];
        int n;
        try { n = thief.Receive(stolen); } catch (SocketException) { n = 0; }
        Assert.Equal(0, n);
    }

    [Fact]
    public async Task ABOR_during_a_download_stops_it_and_the_session_goes_on()
    {
        await using var server = await RunningServer.StartRootAsync();
        server.CreateFile("big.bin", 64 * 1024 * 1024);
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        using var legacy = await LoggedInAsync(proxy.Port);
        Assert.Equal(200, (await legacy.SendAsync("TYPE I")).Code);
        var epsv = await legacy.SendAsync("EPSV");
        using var data = new TcpClient();
        await data.ConnectAsync(IPAddress.Loopback, int.Parse(epsv.Text.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(150, (await legacy.SendAsync("RETR big.bin")).Code);
        var buffer = new byte[65536];
        Assert.True(await data.GetStream().ReadAsync(buffer) > 0);
        await legacy.WriteAsync("ABOR");
        var first = await legacy.ReadReplyAsync();
        Assert.Equal(426, first.Code);
        Assert.Equal(226, (await legacy.ReadReplyAsync()).Code);
        Assert.Equal(257, (await legacy.SendAsync("PWD")).Code);
    }

    [Fact]
    public async Task A_second_USER_after_a_wrong_password_reuses_the_secured_session_and_never_forwards_the_host_part()
    {
        await using var server = await RunningServer.StartRootAsync();
        await using var proxy = await RunningProxy.StartAsync(null, TlsUpstream());
        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        Assert.Equal(220, (await legacy.ReadReplyAsync()).Code);
        string user = $"USER {RunningServer.UserName}@127.0.0.1:{server.Port}";
        Assert.Equal(331, (await legacy.SendAsync(user)).Code);
        Assert.Equal(530, (await legacy.SendAsync("PASS wrong")).Code);
        Assert.Equal(331, (await legacy.SendAsync(user)).Code);
        Assert.Equal(230, (await legacy.SendAsync("PASS " + RunningServer.Password)).Code);
        Assert.All(server.Log.Where(e => e.Kind == SecureFtpServerLogKind.Command && e.Message.StartsWith("USER", StringComparison.Ordinal)),
            e => Assert.Equal("USER " + RunningServer.UserName, e.Message));
        Assert.Single(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && e.Message == "AUTH TLS");
    }
}
