using System.Diagnostics;
using System.Globalization;
using SecureFtp;
using SecureFtp.Bench;
using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;

// One command, one vsftpd, the module against curl (and lftp) measured in the same run.
// Prints each throughput and the ratio to curl, against the goals of issue 2.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "--memory-probe") return await MemoryProbe.RunAsync(args);

var settings = BenchSettings.Parse(args);
using var server = new BenchServer();
server.Require();
Console.WriteLine($"vsftpd on 127.0.0.1:{server.Port}; big file {settings.BigMiB} MiB, {settings.SmallCount} files of {settings.SmallKiB} KiB, {settings.Runs} rounds, the contenders taking turns (best run counts)");
var big = server.CreateFile("big.bin", settings.BigMiB * 1024L * 1024);
for (int i = 1; i <= settings.SmallCount; i++) server.CreateFile($"small/f{i:D3}.bin", settings.SmallKiB * 1024L);
string scratch = Directory.CreateTempSubdirectory("secureftp-bench-").FullName;
var results = new List<Row>();
try
{
    var tools = new Tools(server, scratch);

    // 1. PROT P download of the big file, the contenders taking turns.
    var p = await Measure.TakingTurnsAsync(settings.Runs,
        () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: true),
        () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Private),
        () => tools.CurlAsync(big.RemotePath, Path.Combine(scratch, "curl-big.bin"), tls: true, privateData: true),
        () => tools.OursToFileAsync(big.RemotePath, Path.Combine(scratch, "ours-big.bin"), DataProtectionLevel.Private),
        () => tools.LftpAsync(big.RemotePath, "/dev/null", privateData: true));
    long bytes = big.Length;
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to memory", bytes, p[1], p[0], 1.5, "curl to /dev/null"));
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to a file", bytes, p[3], p[2], 1.0, "curl to a file"));
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to memory vs lftp", bytes, p[1], p[4], null, "lftp to /dev/null"));

    // 2. PROT C (TLS control channel, clear data).
    var c = await Measure.TakingTurnsAsync(settings.Runs,
        () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: false),
        () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Clear));
    results.Add(Row.Throughput($"PROT C {settings.BigMiB} MiB to memory", bytes, c[1], c[0], 1.0, "curl PROT C to /dev/null"));

    // 3. Many small files over one session: ours with PROT P against cleartext curl (and TLS curl for reference).
    string smallGlob = server.RemotePath($"small/f[001-{settings.SmallCount:D3}].bin");
    var small = await Measure.TakingTurnsAsync(settings.Runs,
        () => tools.CurlManyAsync(smallGlob, tls: false),
        () => tools.OursManyAsync(settings.SmallCount));
    var curlTls = (await Measure.TakingTurnsAsync(1, () => tools.CurlManyAsync(smallGlob, tls: true)))[0];
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs cleartext curl", small[1], small[0], 2.5));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs curl PROT P", small[1], curlTls, null));

    Report.Print(results);

    // 4. Peak memory of a large PROT P transfer, in a fresh process so nothing else counts.
    var huge = server.CreateFile("huge.bin", settings.MemoryMiB * 1024L * 1024);
    long peak = await tools.PeakMemoryAsync(huge.RemotePath);
    File.Delete(huge.LocalPath);
    bool memOk = peak < 200L * 1024 * 1024;
    Console.WriteLine($"Peak memory (VmHWM) of a {settings.MemoryMiB} MiB PROT P download: {peak / (1024 * 1024)} MB (goal < 200 MB): {(memOk ? "MET" : "NOT MET")}");
}
finally
{
    Directory.Delete(scratch, recursive: true);
}
return 0;

internal sealed record BenchSettings(int BigMiB, int SmallCount, int SmallKiB, int MemoryMiB, int Runs)
{
    public static BenchSettings Parse(string[] args)
    {
        int Get(string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
        return new BenchSettings(Get("--big-mb", 256), Get("--small-count", 500), Get("--small-kb", 4), Get("--memory-mb", 1024), Get("--runs", 3));
    }
}
