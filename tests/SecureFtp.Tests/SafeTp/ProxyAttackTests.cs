using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Tests.Rfc2228;
using Xunit;

namespace SecureFtp.Tests.SafeTp;

/// <summary>The defences of seed 000 s.5.6 against a man in the middle on real sockets: the client of the framework,
/// the tampering proxy, and the framework's server half (<see cref="MiniRfc2228Server"/>).</summary>
public sealed class ProxyAttackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetp-proxy").FullName;
    private readonly MemoryTrustStore _store = new();

    public void Dispose() => Directory.Delete(_dir, true);

    private FtpClientOptions Options() => new() { Host = "127.0.0.1", AcceptNewKey = true, ClientKeyPath = Path.Combine(_dir, "client.key") };

    /// <summary>The n-th line (1-based) in one direction that starts with <paramref name="prefix"/>.</summary>
    private static Func<bool, string, bool> Nth(bool fromClient, string prefix, int n)
    {
        int seen = 0;
        return (client, line) => client == fromClient && line.StartsWith(prefix, StringComparison.Ordinal) && ++seen == n;
    }

    private static string FlipOneBase64Char(string line, int prefixLength)
    {
        var chars = line.ToCharArray();
        int i = prefixLength + 12;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    // ENC #1 is DIGT (sent right after the 235), ENC #2 is the test's first command.
    private const int FirstTestCommand = 2;

    [Fact]
    public async Task Modification_a_command_altered_in_transit_is_refused_and_the_session_ends()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var target = Nth(true, "ENC ", FirstTestCommand);
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!target(fromClient, line)) return false;
            await wire.ToServer(FlipOneBase64Char(line, 4));
            return true;
        });
        var (control, session, _) = await LoopbackClient.ConnectAsync(proxy.Port, Options(), _store);
        using var _c = control; using var _s = session;

        var reply = await control.ExecuteAsync("DELE important.txt", CancellationToken.None);
        Assert.Equal(535, reply.Code);
        Assert.True(reply.WasProtected);
        Assert.DoesNotContain(server.WireLines, l => l.StartsWith("DELE", StringComparison.Ordinal));
        await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("NOOP", CancellationToken.None));
    }

    [Fact]
    public async Task Modification_a_reply_altered_in_transit_is_detected_by_the_client()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var target = Nth(false, "632 ", FirstTestCommand);
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!target(fromClient, line)) return false;
            await wire.ToClient(FlipOneBase64Char(line, 4));
            return true;
        });
        var (control, session, _) = await LoopbackClient.ConnectAsync(proxy.Port, Options(), _store);
        using var _c = control; using var _s = session;

        var e = await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("USER alice", CancellationToken.None));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains(e.ErrorId, new[] { "ProtectedBlockModified", "MalformedProtectedToken" });
    }

    [Fact]
    public async Task Packet_replay_a_repeated_command_is_refused_by_the_server()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var target = Nth(true, "ENC ", FirstTestCommand);
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!target(fromClient, line)) return false;
            await wire.ToServer(line);
            await wire.ToServer(line); // the replay
            return true;
        });
        var (control, session, _) = await LoopbackClient.ConnectAsync(proxy.Port, Options(), _store);
        using var _c = control; using var _s = session;

        Assert.Equal(331, (await control.ExecuteAsync("USER alice", CancellationToken.None)).Code);
        // The server answered the replayed copy with 535 and hung up; that is what the client reads next.
        Assert.Equal(535, (await control.ExecuteAsync("NOOP", CancellationToken.None)).Code);
        await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("NOOP", CancellationToken.None));
    }

    [Fact]
    public async Task Packet_replay_a_repeated_reply_is_refused_by_the_client()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var target = Nth(false, "632 ", FirstTestCommand);
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!target(fromClient, line)) return false;
            await wire.ToClient(line);
            await wire.ToClient(line); // the replay, taken as the answer to the next command
            return true;
        });
        var (control, session, _) = await LoopbackClient.ConnectAsync(proxy.Port, Options(), _store);
        using var _c = control; using var _s = session;

        Assert.Equal(331, (await control.ExecuteAsync("USER alice", CancellationToken.None)).Code);
        var e = await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("PASS wrong", CancellationToken.None));
        Assert.Equal(("ControlBlockReplayed", FtpErrorKind.Security), (e.ErrorId, e.Kind));
    }

    [Fact]
    public async Task Echo_replay_a_command_reflected_back_as_a_reply_is_refused()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var target = Nth(true, "ENC ", FirstTestCommand);
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!target(fromClient, line)) return false;
            await wire.ToClient(string.Concat("632 ", line.AsSpan(4)));
            return true;
        });
        var (control, session, _) = await LoopbackClient.ConnectAsync(proxy.Port, Options(), _store);
        using var _c = control; using var _s = session;

        var e = await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("USER alice", CancellationToken.None));
        Assert.Equal(("ProtectedBlockModified", FtpErrorKind.Security), (e.ErrorId, e.Kind));
    }

    [Fact]
    public async Task Session_replay_a_recorded_client_session_played_to_the_server_is_refused()
    {
        List<string> recorded;
        await using (var first = new MiniRfc2228Server(SafeTpTestKit.ServerKey))
        {
            var (control, session, _) = await LoopbackClient.ConnectAsync(first.Port, Options(), _store);
            Assert.Equal(331, (await control.ExecuteAsync("USER alice", CancellationToken.None)).Code);
            control.Dispose(); session.Dispose();
            await Task.Delay(100);
            lock (first.WireLines) recorded = first.WireLines.ToList();
        }

        // The attacker connects to the server and plays the recorded lines one by one.
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.StartsWith("220", await reader.ReadLineAsync());
        var replies = new List<string>();
        foreach (var line in recorded)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
            var reply = await reader.ReadLineAsync();
            if (reply == null) break;
            replies.Add(reply);
            if (!reply.StartsWith("33", StringComparison.Ordinal)) break;
        }
        Assert.Equal(new[] { "334", "335", "535" }, replies.Select(r => r.Substring(0, 3)));
        Assert.False(server.Negotiation!.IsEstablished);
        Assert.DoesNotContain(server.WireLines, l => l.StartsWith("USER", StringComparison.Ordinal));
    }

    [Fact]
    public async Task File_replay_a_recorded_download_served_again_is_refused()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey) { Download = RandomNumberGenerator.GetBytes(100_000) };
        await using var attacker = new DataInterceptor();
        var (control, session, _) = await LoopbackClient.ConnectAsync(server.Port, Options(), _store);
        using var _c = control; using var _s = session;
        await LoopbackClient.ProtectDataAsync(control, session);

        using (var data = await LoopbackClient.OpenDataAsync(control, "RETR payroll.csv", session, attacker.Record))
            await data.CopyToAsync(Stream.Null);
        Assert.Equal(226, (await control.ReadReplyAsync(CancellationToken.None)).Code);
        // What the eavesdropper recorded holds no run of the file's bytes.
        Assert.True(attacker.Recording.Length > server.Download.Length);
        Assert.Equal(-1, attacker.Recording.AsSpan().IndexOf(server.Download.AsSpan(5000, 16)));

        server.Download = Encoding.ASCII.GetBytes("the new payroll");
        using var second = await LoopbackClient.OpenDataAsync(control, "RETR payroll.csv", session, attacker.Replay);
        var e = await Assert.ThrowsAsync<FtpException>(() => second.CopyToAsync(Stream.Null));
        Assert.Equal(("FileReplayed", FtpErrorKind.Security), (e.ErrorId, e.Kind));
    }

    [Fact]
    public async Task A_download_cut_by_someone_on_the_path_is_reported_as_truncated()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey) { Download = RandomNumberGenerator.GetBytes(200_000) };
        await using var attacker = new DataInterceptor();
        var (control, session, _) = await LoopbackClient.ConnectAsync(server.Port, Options(), _store);
        using var _c = control; using var _s = session;
        await LoopbackClient.ProtectDataAsync(control, session);

        using var data = await LoopbackClient.OpenDataAsync(control, "RETR big.bin", session, attacker.Cut);
        var e = await Assert.ThrowsAsync<FtpException>(() => data.CopyToAsync(Stream.Null));
        Assert.Equal(("TransferTruncated", FtpErrorKind.Truncated), (e.ErrorId, e.Kind));
    }
}

/// <summary>A network attacker on the data connections: it can record a transfer, serve a recording instead of
/// the real data, or cut a transfer short. Each method takes the server's data port and returns the port the
/// client is sent to instead.</summary>
internal sealed class DataInterceptor : IAsyncDisposable
{
    private readonly List<TcpListener> _listeners = new();
    private readonly List<Task> _relays = new();
    private MemoryStream _recordingStream = new();

    /// <summary>The bytes the last recorded transfer carried on the wire.</summary>
    public byte[] Recording { get { lock (_recordingStream) return _recordingStream.ToArray(); } }

    public int Record(int serverPort)
    {
        var copy = new MemoryStream();
        _recordingStream = copy;
        return Intercept(serverPort, async (fromServer, toClient) =>
        {
            var buffer = new byte[65536];
            int n;
            // Recorded before it is forwarded: once the client has the bytes, so has the recording.
            while ((n = await fromServer.ReadAsync(buffer)) > 0)
            {
                lock (copy) copy.Write(buffer, 0, n);
                await toClient.WriteAsync(buffer.AsMemory(0, n));
            }
        });
    }

    public int Replay(int serverPort) => Intercept(serverPort, async (fromServer, toClient) =>
    {
        await toClient.WriteAsync(Recording);
        await fromServer.CopyToAsync(Stream.Null);
    });

    public int Cut(int serverPort) => Intercept(serverPort, async (fromServer, toClient) =>
    {
        var buffer = new byte[50_000];
        int total = 0, n;
        while (total < buffer.Length && (n = await fromServer.ReadAsync(buffer.AsMemory(total))) > 0) total += n;
        await toClient.WriteAsync(buffer.AsMemory(0, total));
    });

    private int Intercept(int serverPort, Func<Stream, Stream, Task> relay)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _listeners.Add(listener);
        _relays.Add(Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            using var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, serverPort);
            try { await relay(server.GetStream(), client.GetStream()); } catch (IOException) { }
        }));
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) l.Stop();
        try { await Task.WhenAll(_relays).WaitAsync(TimeSpan.FromSeconds(10)); } catch { }
    }
}
