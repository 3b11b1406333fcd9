using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>tcpdump on the loopback interface into a pcap file, read back as raw bytes for the wire check
/// ("neither the password nor the file contents appear"). Searching the whole file, headers included, can
/// only find more than the payload holds, so an absence is meaningful.</summary>
public sealed class PacketCapture : IDisposable
{
    private readonly Process _tcpdump;
    private readonly string _file;
    private readonly StringBuilder _messages = new();
    private byte[]? _captured;

    private PacketCapture(Process tcpdump, string file)
    {
        _tcpdump = tcpdump;
        _file = file;
    }

    /// <summary>Captures the traffic of <paramref name="server"/>: its control port and, when it announces
    /// passive ports from a fixed range, those (so other tests' loopback traffic stays out).</summary>
    public static Task<PacketCapture> StartAsync(FtpServerFixture server)
    {
        string filter = $"tcp port {server.Port}";
        if (server.PassivePortRange is var (first, last))
            filter += $" or tcp portrange {first}-{last}";
        return StartAsync(filter);
    }

    /// <summary>Starts tcpdump with a capture <paramref name="filter"/> and returns once it is capturing.</summary>
    public static async Task<PacketCapture> StartAsync(string filter)
    {
        string tcpdump = Peer.Require("tcpdump");
        if (!Environment.IsPrivilegedProcess)
            Peer.Unavailable("packet capture needs root.");
        string file = Path.Combine(Path.GetTempPath(), $"secureftp-capture-{Guid.NewGuid():N}.pcap");
        var start = new ProcessStartInfo(tcpdump)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        // -U: write each packet as it comes; -s 0: whole packets; -B: a 64 MiB kernel buffer, since loopback
        // packets are up to 64 KiB and a transfer bursts; -Z root: keep the right to write the file.
        foreach (var argument in new[] { "-i", "lo", "-n", "-U", "-s", "0", "-B", "65536", "-Z", "root", "-w", file, filter })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start tcpdump.");
        var capture = new PacketCapture(process, file);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (capture._messages) capture._messages.AppendLine(e.Data);
            if (e.Data.Contains("listening on", StringComparison.Ordinal)) listening.TrySetResult();
        };
        process.BeginErrorReadLine();
        var ready = await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(15)));
        if (ready != listening.Task)
        {
            capture.Dispose();
            throw new InvalidOperationException($"tcpdump did not start capturing: {capture.Messages}");
        }
        return capture;
    }

    private string Messages { get { lock (_messages) return _messages.ToString(); } }

    /// <summary>Stops the capture (tcpdump flushes on SIGINT) and returns the pcap file's bytes.</summary>
    public async Task<byte[]> StopAsync()
    {
        if (_captured != null) return _captured;
        // Packets still in flight on loopback reach tcpdump within milliseconds; give them a moment.
        await Task.Delay(300);
        if (!_tcpdump.HasExited)
            kill(_tcpdump.Id, SignalInterrupt);
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            await _tcpdump.WaitForExitAsync(limit.Token);
        // tcpdump reports at exit how many packets the kernel dropped; a capture with holes proves nothing.
        var dropped = System.Text.RegularExpressions.Regex.Match(Messages, @"(\d+) packets? dropped by kernel");
        if (dropped.Success && dropped.Groups[1].Value != "0")
            throw new InvalidOperationException($"tcpdump lost packets, so the capture is incomplete: {Messages}");
        _captured = File.ReadAllBytes(_file);
        return _captured;
    }

    /// <summary>Whether <paramref name="needle"/> occurs anywhere in <paramref name="captured"/>.</summary>
    public static bool Contains(byte[] captured, ReadOnlySpan<byte> needle) => captured.AsSpan().IndexOf(needle) >= 0;

    /// <summary>Whether the UTF-8 bytes of <paramref name="text"/> occur anywhere in <paramref name="captured"/>.</summary>
    public static bool Contains(byte[] captured, string text) => Contains(captured, Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        try
        {
            if (!_tcpdump.HasExited)
                _tcpdump.Kill();
        }
        catch (InvalidOperationException) { /* already gone */ }
        _tcpdump.Dispose();
        File.Delete(_file);
    }

    private const int SignalInterrupt = 2;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
