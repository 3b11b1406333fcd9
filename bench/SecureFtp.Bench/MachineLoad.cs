using System.Globalization;

namespace SecureFtp.Bench;

/// <summary>How busy the whole machine was during a run, from /proc/stat. Client and server share the machine's
/// cores, and the kernel's loopback work (softirq) belongs to neither process, so the machine-wide figure is the
/// one that says whether a run was limited by CPU (every core busy) or by waiting (cores idle, as when a client
/// reads in small pieces and the two sides take turns). Steal is time the hypervisor gave to other guests.</summary>
internal static class MachineLoad
{
    /// <summary>Runs <paramref name="action"/>; returns its wall time and the machine's busy and stolen cores
    /// (null where /proc/stat cannot be read).</summary>
    public static async Task<Timing> MeasureAsync(Func<Task> action)
    {
        var before = Read();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await action();
        double seconds = clock.Elapsed.TotalSeconds;
        var after = Read();
        if (before is not { } b || after is not { } a) return new Timing(seconds, null, null);
        double ticks = (a.Total - b.Total) is > 0 and var t ? t : 1;
        return new Timing(seconds, (a.Busy - b.Busy) / ticks * Cores, (a.Steal - b.Steal) / ticks * Cores);
    }

    /// <summary>The CPUs the aggregate line of /proc/stat adds up (its "cpuN" lines), which a container's CPU limit
    /// or this process's affinity (what Environment.ProcessorCount reports) does not change.</summary>
    public static int Cores { get; } = CountCores();

    private static int CountCores()
    {
        try { return Math.Max(1, File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsDigit(l[3]))); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Environment.ProcessorCount; }
    }

    /// <summary>The aggregate "cpu" line: busy = user + nice + system + irq + softirq; total adds idle, iowait
    /// and steal.</summary>
    private static (long Busy, long Steal, long Total)? Read()
    {
        try
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            long busy = f[0] + f[1] + f[2] + f[5] + f[6];
            return (busy, f[7], busy + f[3] + f[4] + f[7]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }
}
