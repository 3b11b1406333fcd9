using System.Diagnostics;
using System.Globalization;
using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Bench;

/// <summary>The contenders: this module's engine, curl and lftp, each fetching from the same server.</summary>
internal sealed class Tools(FtpServerFixture server, string scratch)
{
    private static readonly string[] CurlTlsOptions = ["--ssl-reqd", "--insecure"];

    private string Url(string remotePath) => $"ftp://127.0.0.1:{server.Port}{remotePath}";

    public async Task CurlAsync(string remotePath, string output, bool tls, bool privateData)
    {
        var args = new List<string> { "-sS", "--user", $"{server.User}:{server.Password}", "-o", output, Url(remotePath) };
        if (tls) args.InsertRange(0, CurlTlsOptions);
        if (tls && !privateData) args.Insert(0, "--ftp-ssl-control");
        await RunAsync(Peer.Require("curl"), args);
    }

    /// <summary>curl fetching many files over one connection (URL globbing reuses the session).</summary>
    public async Task CurlManyAsync(string globUrlPath, bool tls)
    {
        string dir = Fresh("curl-small");
        var args = new List<string> { "-sS", "--user", $"{server.User}:{server.Password}", "-o", Path.Combine(dir, "#1.bin"), Url(globUrlPath) };
        if (tls) args.InsertRange(0, CurlTlsOptions);
        await RunAsync(Peer.Require("curl"), args);
    }

    public async Task LftpAsync(string remotePath, string output, bool privateData)
    {
        string script = "set xfer:clobber on; set ssl:verify-certificate no; set ftp:ssl-force true; set ftp:ssl-protect-data " + (privateData ? "true" : "false") +
                        $"; set net:max-retries 1; open -u {server.User},{server.Password} -p {server.Port} 127.0.0.1; get {remotePath} -o {output}";
        await RunAsync(Peer.Require("lftp"), new[] { "-c", script });
    }

    private FtpClientOptions Options(DataProtectionLevel level)
    {
        var options = server.ClientOptions("127.0.0.1");
        options.DataProtection = level;
        return options;
    }

    public async Task OursToMemoryAsync(string remotePath, DataProtectionLevel level)
    {
        using var client = await FtpClient.ConnectAsync(Options(level));
        await client.DownloadAsync(remotePath, Stream.Null);
        await client.DisconnectAsync();
    }

    public async Task OursToFileAsync(string remotePath, string localPath, DataProtectionLevel level)
    {
        using var client = await FtpClient.ConnectAsync(Options(level));
        await client.DownloadFileAsync(remotePath, localPath, overwrite: true);
        await client.DisconnectAsync();
    }

    public async Task OursManyAsync(int count)
    {
        string dir = Fresh("ours-small");
        using var client = await FtpClient.ConnectAsync(Options(DataProtectionLevel.Private));
        for (int i = 1; i <= count; i++)
            await client.DownloadFileAsync(server.RemotePath($"small/f{i:D3}.bin"), Path.Combine(dir, $"f{i:D3}.bin"), overwrite: true);
        await client.DisconnectAsync();
    }

    /// <summary>Sync-FtpDirectory's engine: a download sync of <paramref name="remoteDir"/> into a fresh folder over
    /// <paramref name="throttle"/> PROT P sessions (connects, plans, transfers, disconnects: the whole job).</summary>
    public async Task OursSyncAsync(string remoteDir, int throttle)
    {
        string dir = Fresh("ours-sync");
        using var client = await FtpClient.ConnectAsync(Options(DataProtectionLevel.Private));
        var plan = await SecureFtp.Sync.SyncPlanner.PlanAsync(client, new SecureFtp.Sync.SyncOptions { RemotePath = remoteDir, LocalPath = dir, ThrottleLimit = throttle });
        int failed = 0;
        await new SecureFtp.Sync.SyncRunner(plan, a => { if (a.Action == SecureFtp.Sync.SyncActionType.Error) Interlocked.Increment(ref failed); })
            .RunAsync(client, plan.Actions.Where(a => a.Action == SecureFtp.Sync.SyncActionType.Download));
        await client.DisconnectAsync();
        if (failed > 0 || plan.Actions.Any(a => a.Action == SecureFtp.Sync.SyncActionType.Error))
            throw new InvalidOperationException($"The sync had {failed} failed files.");
    }

    /// <summary>lftp mirror with parallel transfers, over TLS with PROT P.</summary>
    public async Task LftpMirrorAsync(string remoteDir, int parallel)
    {
        string dir = Fresh("lftp-mirror");
        string script = "set ssl:verify-certificate no; set ftp:ssl-force true; set ftp:ssl-protect-data true; set net:max-retries 1; " +
                        $"open -u {server.User},{server.Password} -p {server.Port} 127.0.0.1; mirror --parallel={parallel} {remoteDir} {dir}";
        await RunAsync(Peer.Require("lftp"), new[] { "-c", script });
    }

    /// <summary>Runs the memory probe in a fresh process and returns its peak resident set (VmHWM) in bytes.</summary>
    public async Task<long> PeakMemoryAsync(string remotePath)
    {
        string self = Environment.ProcessPath!;
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") args.Add(typeof(Tools).Assembly.Location);
        args.AddRange(new[] { "--memory-probe", server.Port.ToString(CultureInfo.InvariantCulture), server.User, server.Password, server.CertificateThumbprint ?? "", remotePath });
        var result = await RunAsync(self, args);
        var line = result.StandardOutput.Split('\n').First(l => l.StartsWith("PEAK ", StringComparison.Ordinal));
        return long.Parse(line.Substring(5).Trim(), CultureInfo.InvariantCulture);
    }

    private string Fresh(string name)
    {
        string dir = Path.Combine(scratch, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static async Task<ProcessResult> RunAsync(string exe, IEnumerable<string> args)
    {
        var result = await ExternalProcess.RunAsync(exe, args, TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0) throw new InvalidOperationException($"{Path.GetFileName(exe)} failed: {result}");
        return result;
    }
}

/// <summary>A run's wall time, and how many of the machine's cores were busy and stolen meanwhile (see
/// <see cref="MachineLoad"/>).</summary>
internal sealed record Timing(double Seconds, double? BusyCores, double? StolenCores);

/// <summary>One contender of a row: what it runs (timed), and what must be true before each run (untimed).</summary>
internal sealed record Contender(string Name, Func<Task> Run, Action? Prepare = null);

internal static class Measure
{
    /// <summary>Runs the contenders in turn, round after round, and keeps each one's best (shortest) run. Taking
    /// turns puts a slow phase of a shared machine (CPU steal on a VM, a busy neighbour) on all of them alike,
    /// where measuring one contender's runs and then the other's would hand the slow phase to one of them.
    /// The first round also warms caches. With <paramref name="log"/>, every run's time is written there, so the
    /// spread behind a best run can be seen.</summary>
    public static async Task<Timing[]> TakingTurnsAsync(int rounds, TextWriter? log, params Contender[] contenders)
    {
        var best = new Timing?[contenders.Length];
        for (int round = 0; round < rounds; round++)
        {
            var line = new List<string>();
            for (int i = 0; i < contenders.Length; i++)
            {
                contenders[i].Prepare?.Invoke();
                var run = await MachineLoad.MeasureAsync(contenders[i].Run);
                line.Add($"{contenders[i].Name} {run.Seconds:0.000} s");
                if (best[i] == null || run.Seconds < best[i]!.Seconds) best[i] = run;
            }
            log?.WriteLine($"  round {round + 1}: {string.Join(", ", line)}");
        }
        return best.Select(t => t!).ToArray();
    }
}

/// <summary>One line of the report. Throughput rows: ratio = ours / reference, goal is a minimum.
/// Time rows: ratio = ours / reference time, goal is a maximum.</summary>
internal sealed record Row(string Name, double Ours, double Reference, double? Goal, string ReferenceName, bool IsTime = false)
{
    public static Row Time(string name, Timing ours, Timing reference, double? maxRatio)
        => new(name, ours.Seconds, reference.Seconds, maxRatio, "", IsTime: true) { OursLoad = ours, ReferenceLoad = reference };

    public static Row Throughput(string name, long bytes, Timing ours, Timing reference, double? minRatio, string referenceName)
        => new(name, bytes / ours.Seconds, bytes / reference.Seconds, minRatio, referenceName) { OursLoad = ours, ReferenceLoad = reference };

    /// <summary>The best runs, with the machine's load during each.</summary>
    public Timing? OursLoad { get; init; }
    public Timing? ReferenceLoad { get; init; }

    public double Ratio => Ours / Reference;
    public bool? Met => Goal is double g ? (IsTime ? Ratio <= g : Ratio >= g) : null;
}

internal static class Report
{
    public static void Print(IEnumerable<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"{"measurement",-52} {"ours",12} {"reference",12} {"ratio",7}  goal");
        foreach (var r in rows)
        {
            string ours = r.IsTime ? $"{r.Ours:0.000} s" : $"{r.Ours / 1e6:0.0} MB/s";
            string reference = r.IsTime ? $"{r.Reference:0.000} s" : $"{r.Reference / 1e6:0.0} MB/s";
            string goal = r.Goal is double g ? (r.IsTime ? $"<= {g:0.0}x" : $">= {g:0.0}x") + (r.Met == true ? " MET" : " NOT MET") : "(reference)";
            Console.WriteLine($"{r.Name,-52} {ours,12} {reference,12} {r.Ratio,6:0.00}x  {goal}  {r.ReferenceName}");
            if (r.OursLoad is { BusyCores: double ob } o && r.ReferenceLoad is { BusyCores: double rb } f)
                Console.WriteLine($"{"  machine busy (stolen), cores",-52} {$"{ob:0.00} ({o.StolenCores:0.00})",12} {$"{rb:0.00} ({f.StolenCores:0.00})",12}");
        }
        Console.WriteLine();
        Console.WriteLine($"Machine busy: of the {MachineLoad.Cores} cores, how many client, server and kernel kept busy during each best run");
        Console.WriteLine("(stolen: time the hypervisor gave to other guests). Where all are busy, the run was bound by this machine's CPU,");
        Console.WriteLine("which client and server share; where some sat idle, by the two sides waiting on each other.");
    }
}

/// <summary>The child process of the memory measurement: one PROT P download to memory, then VmHWM.</summary>
internal static class MemoryProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = int.Parse(args[1], CultureInfo.InvariantCulture),
            Credential = new System.Net.NetworkCredential(args[2], args[3]),
            Mechanisms = { FtpMechanism.Tls },
            DataProtection = DataProtectionLevel.Private,
        };
        options.Mechanisms.Remove(FtpMechanism.Auto);
        if (args[4].Length > 0) options.PinnedFingerprints.Add(args[4]);
        using (var client = await FtpClient.ConnectAsync(options))
        {
            await client.DownloadAsync(args[5], Stream.Null);
            await client.DisconnectAsync();
        }
        var hwm = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        long kb = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Console.WriteLine($"PEAK {kb * 1024}");
        return 0;
    }
}
