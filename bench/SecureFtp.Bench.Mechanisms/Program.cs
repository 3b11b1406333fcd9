using System.Diagnostics;
using System.Globalization;
using System.Text;
using SecureFtp;
using SecureFtp.Bench.Mechanisms;

// The RFC 2228 mechanisms measured on the embedded server, client and server in this process over 127.0.0.1:
// 1. X-SafeTP1 download throughput against PBSZ, seed 000 s.7 Figure 8 (issue 4): table, CSV, markdown and PNG.
// 2. KEA-SKIPJACK beside X-SafeTP1 and TLS (PROT P) on the same file (issue 5), with ratios.
// Each figure is the best of --runs downloads of one file to memory (discarded), timed from the data
// connection's set-up to the 226. MB/s is 10^6 bytes per second.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = Settings.Parse(args);
Directory.CreateDirectory(settings.OutDirectory);

await using var rig = await MechanismRig.StartAsync(settings.SizeMiB * 1024L * 1024);
Console.WriteLine($"Embedded server on 127.0.0.1:{rig.Port}; file {settings.SizeMiB} MiB; best of {settings.Runs} runs each.");
double MBps(double seconds) => rig.FileLength / seconds / 1e6;

// 1. Figure 8: one session per PBSZ, the client proposing it.
Console.WriteLine();
Console.WriteLine("X-SafeTP1 download throughput against PBSZ (seed 000 Figure 8)");
Console.WriteLine($"{"PBSZ (bytes)",12} {"agreed",8} {"best s",8} {"MB/s",8}");
var figure8 = new List<(int Pbsz, double MBps)>();
foreach (int kib in new[] { 4, 8, 16, 32, 64, 128 })
{
    using var session = await SafeTpPbszSession.ConnectAsync(rig.ClientOptions(FtpMechanism.SafeTp), kib * 1024, CancellationToken.None);
    if (session.BufferSize != kib * 1024) throw new InvalidOperationException($"PBSZ {kib * 1024} proposed, {session.BufferSize} agreed.");
    double best = await BestAsync(settings.Runs, () => session.DownloadAsync(MechanismRig.FileName, rig.FileLength, CancellationToken.None));
    figure8.Add((kib * 1024, MBps(best)));
    Console.WriteLine($"{kib * 1024,12} {session.BufferSize,8} {best,8:0.000} {MBps(best),8:0.0}");
}
WriteFigure8(settings.OutDirectory, settings.SizeMiB, figure8);

// 2. The three mechanisms through FtpClient, each with its default PBSZ (TLS 0, X-SafeTP1 128 KiB, KEA 65535).
Console.WriteLine();
Console.WriteLine("Download throughput by mechanism, PROT P, FtpClient to memory");
var byMechanism = new List<(string Name, string Details, double MBps)>();
foreach (var mechanism in new[] { FtpMechanism.Tls, FtpMechanism.SafeTp, FtpMechanism.KeaSkipjack })
{
    using var client = await FtpClient.ConnectAsync(rig.ClientOptions(mechanism));
    double best = await BestAsync(settings.Runs, async () =>
    {
        var clock = Stopwatch.StartNew();
        long n = await client.DownloadAsync(MechanismRig.FileName, Stream.Null);
        if (n != rig.FileLength) throw new InvalidOperationException($"{mechanism}: {n} of {rig.FileLength} bytes.");
        return clock.Elapsed.TotalSeconds;
    });
    byMechanism.Add((mechanism.ToString(), client.Security.ToString(), MBps(best)));
}
WriteMechanisms(settings.OutDirectory, settings.SizeMiB, byMechanism);
Console.WriteLine();
Console.WriteLine($"Written to {Path.GetFullPath(settings.OutDirectory)}: figure8.csv, figure8.md, figure8.png, mechanisms.csv, mechanisms.md");
return 0;

static async Task<double> BestAsync(int runs, Func<Task<double>> run)
{
    double best = double.MaxValue;
    for (int i = 0; i < runs; i++) best = Math.Min(best, await run());
    return best;
}

static void WriteFigure8(string outDirectory, int sizeMiB, List<(int Pbsz, double MBps)> rows)
{
    File.WriteAllLines(Path.Combine(outDirectory, "figure8.csv"),
        rows.Select(r => $"{r.Pbsz},{r.MBps:0.00}").Prepend("pbsz_bytes,mb_per_s"));
    var md = new StringBuilder($"X-SafeTP1 download of {sizeMiB} MiB over 127.0.0.1, embedded server, best of runs (MB/s = 10^6 B/s)\n\n| PBSZ | MB/s |\n|---:|---:|\n");
    foreach (var r in rows) md.Append(System.Globalization.CultureInfo.InvariantCulture, $"| {r.Pbsz / 1024} KiB | {r.MBps:0.0} |\n");
    File.WriteAllText(Path.Combine(outDirectory, "figure8.md"), md.ToString());
    var png = PngLineChart.Render("X-SAFETP1 DOWNLOAD THROUGHPUT", "PBSZ (KIB)", "MB/S",
        rows.Select(r => (Math.Log2(r.Pbsz), r.MBps)).ToList(), x => (Math.Pow(2, x) / 1024).ToString("0", CultureInfo.InvariantCulture));
    File.WriteAllBytes(Path.Combine(outDirectory, "figure8.png"), png);
}

static void WriteMechanisms(string outDirectory, int sizeMiB, List<(string Name, string Details, double MBps)> rows)
{
    double tls = rows.Single(r => r.Name == nameof(FtpMechanism.Tls)).MBps;
    double safeTp = rows.Single(r => r.Name == nameof(FtpMechanism.SafeTp)).MBps;
    Console.WriteLine($"{"mechanism",-12} {"MB/s",8} {"vs TLS",7} {"vs SafeTP",9}  negotiated");
    foreach (var r in rows) Console.WriteLine($"{r.Name,-12} {r.MBps,8:0.0} {r.MBps / tls,6:0.00}x {r.MBps / safeTp,8:0.00}x  {r.Details}");
    File.WriteAllLines(Path.Combine(outDirectory, "mechanisms.csv"),
        rows.Select(r => $"{r.Name},{r.MBps:0.00},{r.MBps / tls:0.000},{r.MBps / safeTp:0.000},\"{r.Details}\"").Prepend("mechanism,mb_per_s,ratio_to_tls,ratio_to_safetp,negotiated"));
    var md = new StringBuilder($"PROT P download of {sizeMiB} MiB over 127.0.0.1, embedded server, FtpClient to memory, best of runs (MB/s = 10^6 B/s)\n\n| Mechanism | MB/s | vs TLS | vs X-SafeTP1 | Negotiated |\n|---|---:|---:|---:|---|\n");
    foreach (var r in rows) md.Append(System.Globalization.CultureInfo.InvariantCulture, $"| {r.Name} | {r.MBps:0.0} | {r.MBps / tls:0.00}x | {r.MBps / safeTp:0.00}x | {r.Details} |\n");
    File.WriteAllText(Path.Combine(outDirectory, "mechanisms.md"), md.ToString());
}

internal sealed record Settings(int SizeMiB, int Runs, string OutDirectory)
{
    public static Settings Parse(string[] args)
    {
        string? Get(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int IntOf(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Settings(IntOf("--size-mb", 64), IntOf("--runs", 3), Get("--out") ?? Path.Combine("bench", "out"));
    }
}
