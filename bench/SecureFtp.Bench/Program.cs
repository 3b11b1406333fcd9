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
Console.WriteLine($"vsftpd on 127.0.0.1:{server.Port}; big file {settings.BigMiB} MiB, {settings.SmallCount} files of {settings.SmallKiB} KiB, {settings.Runs} runs each (best run counts)");
var big = server.CreateFile("big.bin", settings.BigMiB * 1024L * 1024);
for (int i = 1; i <= settings.SmallCount; i++) server.CreateFile($"small/f{i:D3}.bin", settings.SmallKiB * 1024L);
string scratch = Directory.CreateTempSubdirectory("secureftp-bench-").FullName;
var results = new List<Row>();
try
{
    var tools = new Tools(server, scratch);

    // 1. PROT P download of the big file.
    double curlP = await Measure.BestAsync(settings.Runs, () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: true));
    double curlPFile = await Measure.BestAsync(settings.Runs, () => tools.CurlAsync(big.RemotePath, Path.Combine(scratch, "curl-big.bin"), tls: true, privateData: true));
    double lftpP = await Measure.BestAsync(settings.Runs, () => tools.LftpAsync(big.RemotePath, "/dev/null", privateData: true));
    double oursPMem = await Measure.BestAsync(settings.Runs, () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Private));
    double oursPFile = await Measure.BestAsync(settings.Runs, () => tools.OursToFileAsync(big.RemotePath, Path.Combine(scratch, "ours-big.bin"), DataProtectionLevel.Private));
    long bytes = big.Length;
    results.Add(new Row($"PROT P {settings.BigMiB} MiB to memory", bytes / oursPMem, bytes / curlP, 1.5, "curl to /dev/null"));
    results.Add(new Row($"PROT P {settings.BigMiB} MiB to a file", bytes / oursPFile, bytes / curlPFile, 1.0, "curl to a file"));
    results.Add(new Row($"PROT P {settings.BigMiB} MiB to memory vs lftp", bytes / oursPMem, bytes / lftpP, null, "lftp to /dev/null"));

    // 2. PROT C (TLS control channel, clear data).
    double curlC = await Measure.BestAsync(settings.Runs, () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: false));
    double oursC = await Measure.BestAsync(settings.Runs, () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Clear));
    results.Add(new Row($"PROT C {settings.BigMiB} MiB to memory", bytes / oursC, bytes / curlC, 1.0, "curl PROT C to /dev/null"));

    // 3. Many small files over one session: ours with PROT P against cleartext curl (and TLS curl for reference).
    string smallGlob = server.RemotePath($"small/f[001-{settings.SmallCount:D3}].bin");
    double curlClear = await Measure.BestAsync(settings.Runs, () => tools.CurlManyAsync(smallGlob, tls: false));
    double curlTls = await Measure.BestAsync(1, () => tools.CurlManyAsync(smallGlob, tls: true));
    double oursSmall = await Measure.BestAsync(settings.Runs, () => tools.OursManyAsync(settings.SmallCount));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs cleartext curl", oursSmall, curlClear, 2.5));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs curl PROT P", oursSmall, curlTls, null));

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
