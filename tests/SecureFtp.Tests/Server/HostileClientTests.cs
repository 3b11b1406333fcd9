using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;
using SecureFtp.Tests.SafeTp;
using Xunit;

namespace SecureFtp.Tests.Server;

/// <summary>Nothing else runs beside these: they measure the process's memory.</summary>
[CollectionDefinition(nameof(MemoryMeasuringCollection), DisableParallelization = true)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "An xunit collection definition: the suffix says what it is.")]
public sealed class MemoryMeasuringCollection { }

/// <summary>Start-SecureFtpServer against a client that attacks before it logs in (issue 12, "Server"): every
/// command line bounded whatever bytes it holds, memory flat under a command flood, in root and proxy mode.
/// The attacker is <see cref="HostileClient"/>: raw bytes on a socket.</summary>
[Collection(nameof(MemoryMeasuringCollection))]
public class HostileClientTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static bool Warnings(SecureFtpServerLogEntry e) => e.Kind is SecureFtpServerLogKind.Warning or SecureFtpServerLogKind.Error;

    private static long SettledMemory()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Sends <paramref name="total"/> bytes made of <paramref name="pattern"/> and never a line end; returns
    /// how many the server took before it closed the connection.</summary>
    private static async Task<long> SendUntilClosedAsync(HostileClient attacker, byte[] pattern, long total)
    {
        var chunk = new byte[64 * 1024];
        for (int i = 0; i < chunk.Length; i++) chunk[i] = pattern[i % pattern.Length];
        long sent = 0;
        try
        {
            while (sent < total)
            {
                await attacker.Stream.WriteAsync(chunk).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                sent += chunk.Length;
            }
        }
        catch (IOException) { }
        catch (SocketException) { }
        return sent;
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF })]       // escaped IAC: each pair is one data byte 0xFF in the line
    [InlineData(new byte[] { 0xFF, 0xF1 })]       // IAC NOP: adds nothing to the line, but is still bytes of it
    [InlineData(new byte[] { 0xFF, 0xFB, 0x01 })] // IAC WILL ECHO: option negotiation, never ending
    [InlineData(new byte[] { (byte)'A' })]
    public async Task A_32_MiB_command_line_is_refused_after_a_few_KiB_whatever_bytes_it_holds(byte[] pattern)
    {
        await using var server = await RunningServer.StartRootAsync(keepLog: Warnings);
        using var attacker = await HostileClient.ConnectAsync(server.Port);
        await attacker.ExpectAsync(220);
        long before = SettledMemory();
        long sent = await SendUntilClosedAsync(attacker, pattern, 32L << 20);
        long grown = SettledMemory() - before;
        output.WriteLine($"pattern {Convert.ToHexString(pattern)}: server took {sent} bytes; memory grew {grown / 1024} KiB");

        // The server stopped reading long before 32 MiB: at 4096 command bytes (8 KiB on the wire), and said why.
        Assert.True(sent < 8L << 20, $"the server took {sent} bytes of one command line");
        Assert.Contains(server.Log, e => e.Message.Contains("command line", StringComparison.Ordinal));
        Assert.True(grown < 16L << 20, $"the server grew by {grown / 1024} KiB for one command line");
    }

    [Fact]
    public async Task The_proxy_bounds_command_lines_too()
    {
        using var upstream = GreetingOnlyFtpd.Start();
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{upstream.Port}", keepLog: Warnings);
        using var attacker = await HostileClient.ConnectAsync(proxy.Port);
        await attacker.ExpectAsync(220);
        long sent = await SendUntilClosedAsync(attacker, new byte[] { 0xFF, 0xFF }, 32L << 20);
        Assert.True(sent < 8L << 20, $"the proxy took {sent} bytes of one command line");
        Assert.Contains(proxy.Log, e => e.Message.Contains("command line", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_bound_answers_421_with_the_reason()
    {
        await using var server = await RunningServer.StartRootAsync(keepLog: Warnings);
        using var attacker = await HostileClient.ConnectAsync(server.Port);
        await attacker.ExpectAsync(220);
        var line = new byte[10_000]; // 5000 data bytes once unescaped
        for (int i = 0; i < line.Length; i += 2) { line[i] = 0xFF; line[i + 1] = 0xFF; }
        await attacker.SendAsync(line);
        var reply = await attacker.ExpectAsync(421);
        Assert.Contains("longer than 4096 bytes", reply.Message);
        Assert.True(await attacker.ClosedByServerAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // X-SafeTP1 offered: the DIGT transcript must not keep the flood
    public async Task Memory_stays_flat_under_a_HELP_and_NOOP_flood_before_login(bool offerSafeTp)
    {
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.LoginTimeout = TimeSpan.FromMinutes(5); // the flood itself is measured here, not the deadline
            if (offerSafeTp) o.AddSafeTp(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1024 });
        }, keepLog: Warnings);
        const int connections = 4, linesPerConnection = 40_000;
        var attackers = new List<HostileClient>();
        for (int i = 0; i < connections; i++)
        {
            var attacker = await HostileClient.ConnectAsync(server.Port);
            await attacker.ExpectAsync(220);
            attackers.Add(attacker);
        }
        // Warm up (JIT, buffers), then measure.
        await Task.WhenAll(attackers.Select(a => FloodAsync(a, 200)));
        long before = SettledMemory();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(attackers.Select(a => FloodAsync(a, linesPerConnection)));
        clock.Stop();
        long after = SettledMemory();
        long grown = after - before;
        // Every attacker is still connected: what the server keeps for them is what is measured.
        foreach (var attacker in attackers) await attacker.CommandAsync("NOOP", 200);
        foreach (var attacker in attackers) attacker.Dispose();
        output.WriteLine($"{connections * linesPerConnection} pre-login commands in {clock.Elapsed.TotalSeconds:0.0} s: {before / 1024} KiB -> {after / 1024} KiB");

        Assert.True(grown < 12L << 20,
            $"{connections * linesPerConnection} pre-login commands in {clock.Elapsed.TotalSeconds:0.0} s grew the process by {grown / 1024} KiB ({before / 1024} KiB -> {after / 1024} KiB)");
    }

    /// <summary>Pipelines HELP and NOOP lines and reads every reply (a server that is not read from just blocks,
    /// which costs it nothing).</summary>
    private static async Task FloodAsync(HostileClient attacker, int lines)
    {
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HELP\r\nNOOP\r\n", 50)));
        var reading = Task.Run(async () =>
        {
            for (int i = 0; i < lines; i++)
                if (await attacker.ReadReplyAsync() == null) throw new IOException("closed during the flood");
        });
        for (int sent = 0; sent < lines; sent += 100) await attacker.SendAsync(batch);
        await reading;
    }
}

/// <summary>The smallest ftpd a proxy can stand in front of: greets, then reads and ignores. For tests whose attacker
/// never gets past the proxy's front end.</summary>
internal sealed class GreetingOnlyFtpd : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = new();

    private GreetingOnlyFtpd(TcpListener listener) { _listener = listener; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static GreetingOnlyFtpd Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var ftpd = new GreetingOnlyFtpd(listener);
        _ = ftpd.AcceptLoopAsync();
        return ftpd;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            lock (_clients) _clients.Add(client);
            _ = Task.Run(async () =>
            {
                try
                {
                    var stream = client.GetStream();
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("220 legacy ftpd\r\n"));
                    var sink = new byte[4096];
                    while (await stream.ReadAsync(sink, _stop.Token) > 0) { }
                }
                catch (Exception) { }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
    }
}
