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
        // --immediate-mode: take each packet from the kernel at once (otherwise the last partly filled buffer
        // block waits up to a second and is lost at stop); -U: write each packet as it comes; -s 0: whole
        // packets; -B: a 64 MiB kernel buffer, since loopback packets are up to 64 KiB and a transfer bursts;
        // -Z root: keep the right to write the file.
        foreach (var argument in new[] { "-i", "lo", "-n", "--immediate-mode", "-U", "-s", "0", "-B", "65536", "-Z", "root", "-w", file, filter })
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

    /// <summary>What tcpdump said (its start line and, once stopped, its packet counts).</summary>
    public string Messages { get { lock (_messages) return _messages.ToString(); } }

    /// <summary>Stops the capture (tcpdump flushes on SIGINT) and returns the pcap file's bytes.</summary>
    public async Task<byte[]> StopAsync()
    {
        if (_captured != null) return _captured;
        // On SIGINT tcpdump drops what it has not written yet, and under load it lags behind the traffic:
        // wait until the file stops growing first.
        await WaitUntilFileSettlesAsync();
        if (!_tcpdump.HasExited)
            _ = kill(_tcpdump.Id, SignalInterrupt);   // a failed signal shows as the time-out below
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            await _tcpdump.WaitForExitAsync(limit.Token);
        // WaitForExit (without a time-out) also waits until the redirected stderr is read to its end.
        _tcpdump.WaitForExit();
        // tcpdump reports at exit how many packets the kernel dropped; a capture with holes proves nothing.
        // ("received by filter" is no check: on lo the kernel shows each packet twice, and libpcap keeps one.)
        var dropped = System.Text.RegularExpressions.Regex.Match(Messages, @"(\d+) packets? dropped by kernel");
        if (!dropped.Success || dropped.Groups[1].Value != "0")
            throw new InvalidOperationException($"tcpdump lost packets, so the capture is incomplete: {Messages}");
        _captured = File.ReadAllBytes(_file);
        return _captured;
    }

    private async Task WaitUntilFileSettlesAsync()
    {
        var clock = Stopwatch.StartNew();
        long last = -1;
        int unchanged = 0;
        while (unchanged < 3 && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(200);
            long size = File.Exists(_file) ? new FileInfo(_file).Length : 0;
            unchanged = size == last ? unchanged + 1 : 0;
            last = size;
        }
    }

    /// <summary>The TCP segments that carry payload in a pcap file (IPv4 over Ethernet or Linux cooked capture,
    /// as tcpdump writes for lo): source port, destination port and payload length, in capture order.</summary>
    public static IEnumerable<(int SourcePort, int DestinationPort, int Length)> TcpSegments(byte[] pcap)
    {
        int linkType = BitConverter.ToInt32(pcap, 20);
        int linkHeader = linkType switch { 1 => 14, 113 => 16, _ => throw new NotSupportedException($"pcap link type {linkType}") };
        for (int at = 24; at + 16 <= pcap.Length;)
        {
            int captured = BitConverter.ToInt32(pcap, at + 8);
            int ip = at + 16 + linkHeader;
            at += 16 + captured;
            if ((pcap[ip] >> 4) != 4 || pcap[ip + 9] != 6) continue; // IPv4, TCP
            int ipHeader = (pcap[ip] & 0x0F) * 4;
            int ipLength = pcap[ip + 2] << 8 | pcap[ip + 3];
            int tcp = ip + ipHeader;
            int tcpHeader = (pcap[tcp + 12] >> 4) * 4;
            int payload = ipLength - ipHeader - tcpHeader;
            if (payload > 0) yield return (pcap[tcp] << 8 | pcap[tcp + 1], pcap[tcp + 2] << 8 | pcap[tcp + 3], payload);
        }
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
