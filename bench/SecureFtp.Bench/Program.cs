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
var big = settings.OnlySync ? null! : server.CreateFile("big.bin", settings.BigMiB * 1024L * 1024);
for (int i = 1; i <= settings.SmallCount; i++) server.CreateFile($"small/f{i:D3}.bin", settings.SmallKiB * 1024L);
string scratch = Directory.CreateTempSubdirectory("secureftp-bench-").FullName;
var results = new List<Row>();
try
{
    var tools = new Tools(server, scratch);

    var log = settings.ShowRuns ? Console.Out : null;
    string smallGlob = server.RemotePath($"small/f[001-{settings.SmallCount:D3}].bin");
    if (settings.OnlySync)
    {
        await SyncRowsAsync();
        Report.Print(results);
        return 0;
    }

    // 1. PROT P download of the big file, the contenders taking turns. The goal's download to a file starts with
    // the destination absent (removed before the run, untimed), so both write a new file. Over an existing file the
    // two do different things, shown apart for reference: curl truncates it first (its memory is reused at once,
    // and a failed transfer leaves a cut file under the final name), while this module keeps it until the new copy
    // is complete and renamed over it, which needs memory for both and frees the old copy within the timed run.
    string curlFile = Path.Combine(scratch, "curl-big.bin"), oursFile = Path.Combine(scratch, "ours-big.bin");
    string curlOld = Path.Combine(scratch, "curl-over.bin"), oursOld = Path.Combine(scratch, "ours-over.bin");
    var p = await Measure.TakingTurnsAsync(settings.Runs, log,
        new Contender("curl", () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: true)),
        new Contender("ours", () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Private)),
        new Contender("curl-file", () => tools.CurlAsync(big.RemotePath, curlFile, tls: true, privateData: true), () => File.Delete(curlFile)),
        new Contender("ours-file", () => tools.OursToFileAsync(big.RemotePath, oursFile, DataProtectionLevel.Private), () => File.Delete(oursFile)),
        new Contender("lftp", () => tools.LftpAsync(big.RemotePath, "/dev/null", privateData: true)),
        new Contender("curl-over", () => tools.CurlAsync(big.RemotePath, curlOld, tls: true, privateData: true), () => Existing(curlOld)),
        new Contender("ours-over", () => tools.OursToFileAsync(big.RemotePath, oursOld, DataProtectionLevel.Private), () => Existing(oursOld)));
    void Existing(string path) { if (!File.Exists(path)) File.Copy(big.LocalPath, path); }
    long bytes = big.Length;
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to memory", bytes, p[1], p[0], 1.5, "curl to /dev/null"));
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to a new file", bytes, p[3], p[2], 1.0, "curl to a file"));
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB over an existing file", bytes, p[6], p[5], null, "curl, truncating it"));
    results.Add(Row.Throughput($"PROT P {settings.BigMiB} MiB to memory vs lftp", bytes, p[1], p[4], null, "lftp to /dev/null"));

    // 2. PROT C (TLS control channel, clear data).
    var c = await Measure.TakingTurnsAsync(settings.Runs, log,
        new Contender("curl", () => tools.CurlAsync(big.RemotePath, "/dev/null", tls: true, privateData: false)),
        new Contender("ours", () => tools.OursToMemoryAsync(big.RemotePath, DataProtectionLevel.Clear)));
    results.Add(Row.Throughput($"PROT C {settings.BigMiB} MiB to memory", bytes, c[1], c[0], 1.0, "curl PROT C to /dev/null"));

    // 3. Many small files over one session: ours with PROT P against cleartext curl (and TLS curl for reference).
    var small = await Measure.TakingTurnsAsync(settings.Runs, log,
        new Contender("curl-clear", () => tools.CurlManyAsync(smallGlob, tls: false)),
        new Contender("ours", () => tools.OursManyAsync(settings.SmallCount)));
    var curlTls = (await Measure.TakingTurnsAsync(1, log, new Contender("curl-tls", () => tools.CurlManyAsync(smallGlob, tls: true))))[0];
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs cleartext curl", small[1], small[0], 2.5));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, ours PROT P vs curl PROT P", small[1], curlTls, null));
    await SyncRowsAsync();

    Report.Print(results);

    // 5. Peak memory of a large PROT P transfer, in a fresh process so nothing else counts.
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

// 4. The same small files as a scheduled job would fetch them (issue 14): a download sync over four PROT P sessions
// (connect, list, compare, transfer) against cleartext curl over one connection, and lftp mirror --parallel=4 over TLS.
async Task SyncRowsAsync()
{
    var tools = new Tools(server, scratch);
    var log = settings.ShowRuns ? Console.Out : null;
    string smallGlob = server.RemotePath($"small/f[001-{settings.SmallCount:D3}].bin");
    var sync = await Measure.TakingTurnsAsync(settings.Runs, log,
        new Contender("curl-clear", () => tools.CurlManyAsync(smallGlob, tls: false)),
        new Contender("ours-sync4", () => tools.OursSyncAsync(server.RemotePath("small"), 4)),
        new Contender("lftp-mirror4", () => tools.LftpMirrorAsync(server.RemotePath("small"), 4)));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, sync -ThrottleLimit 4 PROT P vs cleartext curl", sync[1], sync[0], 1.0));
    results.Add(Row.Time($"{settings.SmallCount} x {settings.SmallKiB} KiB, sync -ThrottleLimit 4 vs lftp mirror --parallel=4", sync[1], sync[2], null));
}

internal sealed record BenchSettings(int BigMiB, int SmallCount, int SmallKiB, int MemoryMiB, int Runs, bool ShowRuns, bool OnlySync)
{
    public static BenchSettings Parse(string[] args)
    {
        int Get(string name, int fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
        return new BenchSettings(Get("--big-mb", 256), Get("--small-count", 500), Get("--small-kb", 4), Get("--memory-mb", 1024), Get("--runs", 5), Array.IndexOf(args, "--show-runs") >= 0, Array.IndexOf(args, "--only-sync") >= 0);
    }
}
