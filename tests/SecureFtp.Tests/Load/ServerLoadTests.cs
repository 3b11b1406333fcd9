using System.Diagnostics;
using System.Security.Cryptography;
using SecureFtp.Security;
using SecureFtp.Server;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.Server;
using Xunit;
using Xunit.Abstractions;

namespace SecureFtp.Tests.Load;

/// <summary>The embedded server under load, loopback only and bounded in count and time: 200 simultaneous sessions
/// (TLS, PROT P), 160 of this module's client and 40 curl processes, each uploading its own file and downloading it
/// back; nothing may differ, and afterwards the server's descriptors and memory must be back near idle. The server
/// runs in this test process, so /proc/self/fd and the managed heap are its own (the module's clients are closed by
/// then). A soak (sessions coming and going, memory sampled each minute) runs when SECUREFTP_SOAK_MINUTES is set.
/// CI includes the class with the trait Category=Load.</summary>
[Trait("Category", "Load")]
[Collection("Load")] // alone: descriptor and memory counts must not see other tests' sockets
public class ServerLoadTests(ITestOutputHelper output)
{
    private const int ModuleSessions = 160;
    private const int CurlSessions = 40;
    private const int FileLength = 128 * 1024 + 3;

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Open descriptors by kind (socket, pipe, anon_inode, file), to name what a difference is made of.</summary>
    private static Dictionary<string, int> DescriptorKinds()
    {
        var kinds = new Dictionary<string, int>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            string kind;
            try { kind = new FileInfo(fd).LinkTarget ?? "?"; } catch (IOException) { continue; }
            kind = kind.StartsWith('/') ? "file" : kind.Split(':')[0] + (kind.StartsWith("anon_inode", StringComparison.Ordinal) ? kind[kind.IndexOf(':')..] : "");
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }
        return kinds;
    }

    private static string Describe(Dictionary<string, int> kinds) => string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"));

    private static long ManagedBytesAfterCollection()
    {
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private static void AllowTwoHundredFromLoopback(SecureFtpServerOptions options)
    {
        options.MaxConnections = 256;
        options.MaxConnectionsPerAddress = 0; // 0 = no per-address limit
    }

    private static FtpClientOptions Options(int port) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        Credential = new System.Net.NetworkCredential(RunningServer.UserName, RunningServer.Password),
        Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
        DataProtection = DataProtectionLevel.Private,
        PinnedFingerprints = { TestCertificates.Current.ServerSha256 },
        ConnectTimeout = TimeSpan.FromSeconds(60),
        ReadTimeout = TimeSpan.FromSeconds(60),
        DataTimeout = TimeSpan.FromSeconds(60),
    };

    [SkippableFact]
    public async Task Two_hundred_simultaneous_TLS_sessions_transfer_their_own_files_and_the_server_returns_to_idle()
    {
        if (!OperatingSystem.IsLinux()) Peer.Unavailable("/proc/self/fd is Linux's.");
        Peer.Require("curl");
        // All 200 sessions come from 127.0.0.1: the per-address limit (32 by default) is lifted and the total limit
        // (512 by default) is set above 200 explicitly, so that every session is one the limits allow.
        await using var server = await RunningServer.StartRootAsync(AllowTwoHundredFromLoopback);
        string work = Directory.CreateTempSubdirectory("secureftp-load-").FullName;
        try
        {
            // Idle figures once the server has served one session (lazy statics, thread pool, TLS contexts warm).
            await RoundTripAsync(server.Port, work, "warm");
            await WaitForAsync(() => server.Server.ActiveSessions == 0, TimeSpan.FromSeconds(30));
            // Descriptors are counted after a collection: the pipes of the curl processes that finished are closed by
            // finalizers (measured: 64 pipes before it, none after), and they are the test's, not the server's.
            long idleManaged = ManagedBytesAfterCollection();
            int idleDescriptors = OpenDescriptors();
            var idleKinds = DescriptorKinds();
            long idleResident = ResidentBytes();

            int peak = 0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.Server.ActiveSessions);
                    try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            var clock = Stopwatch.StartNew();

            // All module sessions connect and log in first and wait for one another, so 200 are open at once.
            var clients = await Task.WhenAll(Enumerable.Range(0, ModuleSessions).Select(_ => FtpClient.ConnectAsync(Options(server.Port))));
            var curls = Enumerable.Range(0, CurlSessions).Select(i => CurlRoundTripAsync(server.Port, work, $"curl-{i}")).ToList();
            var modules = clients.Select((client, i) => ModuleRoundTripAsync(client, work, $"module-{i}")).ToList();
            var problems = (await Task.WhenAll(modules.Concat(curls))).Where(d => d != null).ToList();
            foreach (var client in clients) { await client.DisconnectAsync(); client.Dispose(); }
            Array.Clear(clients); // the heap measured below is the server's, not 160 disposed clients'
            TimeSpan elapsed = clock.Elapsed;

            await WaitForAsync(() => server.Server.ActiveSessions == 0, TimeSpan.FromSeconds(60));
            sampling.Cancel();
            await sampler;
            await Task.Delay(500); // sockets the server closed leave /proc/self/fd a moment later
            long afterManaged = ManagedBytesAfterCollection();
            int afterDescriptors = OpenDescriptors();
            var afterKinds = DescriptorKinds();
            long afterResident = ResidentBytes();
            output.WriteLine($"LOAD sessions {ModuleSessions}+{CurlSessions} peak-active {peak} in {elapsed.TotalSeconds:0.0} s; " +
                             $"fds idle {idleDescriptors} after {afterDescriptors}; managed idle {idleManaged >> 20} MiB after {afterManaged >> 20} MiB; " +
                             $"rss idle {idleResident >> 20} MiB after {afterResident >> 20} MiB; failed or differing {problems.Count}");
            foreach (var p in problems.Take(10)) output.WriteLine("LOAD problem: " + p);
            output.WriteLine($"LOAD descriptors idle: {Describe(idleKinds)}; after: {Describe(afterKinds)}");
            // What the server itself still holds: the heap with it, minus the heap once it is stopped and disposed.
            int logEntries = server.Log.Count;
            await server.DisposeAsync();
            long withoutServer = ManagedBytesAfterCollection();
            output.WriteLine($"LOAD managed once the server is disposed: {withoutServer >> 20} MiB (the server held {(afterManaged - withoutServer) >> 20} MiB, "
                             + $"{logEntries} log entries kept by the test included)");

            // Content that differs, and any session refused or broken while the limits allow 200, is a failure.
            Assert.DoesNotContain(problems, p => p!.Contains("differs", StringComparison.Ordinal));
            Assert.True(problems.Count == 0, $"{problems.Count} of {ModuleSessions + CurlSessions} sessions failed; first: {problems.FirstOrDefault()}");
            Assert.True(peak >= (ModuleSessions + CurlSessions) * 9 / 10, $"only {peak} sessions were open at once");
            Assert.True(afterDescriptors <= idleDescriptors + 8, $"descriptors: {idleDescriptors} idle, {afterDescriptors} after the load");
            Assert.True(afterManaged - withoutServer <= 16L << 20, $"the server still holds {afterManaged - withoutServer} bytes after the load");
            // The process as a whole: ArrayPool<byte>.Shared keeps up to 32 arrays per size per core for reuse (TLS
            // buffers of 200 clients and the server) and trims them slowly; measured here at 48 MiB of a 62 MiB growth
            // (14 MiB with DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION=1). Allowed for, and no more.
            Assert.True(afterManaged <= idleManaged + (16L << 20) + (64L << 20), $"managed heap: {idleManaged} idle, {afterManaged} after the load");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Sessions coming and going for SECUREFTP_SOAK_MINUTES (10 for the release check): 20 workers, each
    /// connecting, uploading, downloading and disconnecting in a loop; the managed heap is sampled every minute and
    /// must stay flat (the last sample within 16 MiB of the first).</summary>
    [SkippableFact]
    public async Task Soak_sessions_coming_and_going_keep_memory_flat()
    {
        Skip.IfNot(int.TryParse(Environment.GetEnvironmentVariable("SECUREFTP_SOAK_MINUTES"), out int minutes) && minutes > 0,
            "set SECUREFTP_SOAK_MINUTES (e.g. 10) to run the soak");
        await using var server = await RunningServer.StartRootAsync(AllowTwoHundredFromLoopback);
        string work = Directory.CreateTempSubdirectory("secureftp-soak-").FullName;
        try
        {
            var end = DateTime.UtcNow.AddMinutes(minutes);
            long sessions = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var workers = Enumerable.Range(0, 20).Select(w => Task.Run(async () =>
            {
                for (int i = 0; DateTime.UtcNow < end; i++)
                {
                    if (await RoundTripAsync(server.Port, work, $"soak-{w}-{i % 3}") is { } failure) failures.Enqueue(failure);
                    Interlocked.Increment(ref sessions);
                }
            })).ToList();
            var samples = new List<long>();
            while (workers.Any(t => !t.IsCompleted))
            {
                samples.Add(ManagedBytesAfterCollection());
                output.WriteLine($"SOAK minute {samples.Count - 1}: managed {samples[^1] >> 20} MiB, fds {OpenDescriptors()}, sessions so far {Interlocked.Read(ref sessions)}");
                await Task.WhenAny(Task.WhenAll(workers), Task.Delay(TimeSpan.FromMinutes(1)));
            }
            await Task.WhenAll(workers);
            samples.Add(ManagedBytesAfterCollection());
            output.WriteLine($"SOAK end: {sessions} sessions, managed {samples[0] >> 20} -> {samples[^1] >> 20} MiB");
            Assert.Empty(failures);
            Assert.True(samples[^1] <= samples[Math.Min(1, samples.Count - 1)] + (16L << 20), "memory grew: " + string.Join(", ", samples.Select(s => s >> 20)));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string?> RoundTripAsync(int port, string work, string name)
    {
        using var client = await FtpClient.ConnectAsync(Options(port));
        string? failure = await ModuleRoundTripAsync(client, work, name);
        await client.DisconnectAsync();
        return failure;
    }

    /// <summary>Uploads a file of its own, downloads it back, compares; the failure, or null.</summary>
    private static async Task<string?> ModuleRoundTripAsync(FtpClient client, string work, string name)
    {
        try
        {
            var bytes = RandomNumberGenerator.GetBytes(FileLength);
            string up = Path.Combine(work, name + ".up"), down = Path.Combine(work, name + ".down");
            await File.WriteAllBytesAsync(up, bytes);
            await client.UploadFileAsync(up, "/" + name, overwrite: true);
            await client.DownloadFileAsync("/" + name, down, overwrite: true);
            byte[] back = await File.ReadAllBytesAsync(down);
            return bytes.AsSpan().SequenceEqual(back) ? null : $"{name}: the downloaded copy differs";
        }
        catch (FtpException e) { return $"{name}: {e.ErrorId}: {e.Message}"; }
    }

    /// <summary>curl uploads its own file and downloads it back in one invocation (one session, reused by --next).</summary>
    private static async Task<string?> CurlRoundTripAsync(int port, string work, string name)
    {
        var bytes = RandomNumberGenerator.GetBytes(FileLength);
        string up = Path.Combine(work, name + ".up"), down = Path.Combine(work, name + ".down");
        await File.WriteAllBytesAsync(up, bytes);
        var common = new[] { "--silent", "--show-error", "--fail", "--max-time", "120", "--user", $"{RunningServer.UserName}:{RunningServer.Password}",
                             "--ssl-reqd", "--cacert", TestCertificates.Current.AuthorityFile };
        var arguments = common.Concat(new[] { "--upload-file", up, $"ftp://localhost:{port}/{name}", "--next" })
            .Concat(common).Concat(new[] { "--output", down, $"ftp://localhost:{port}/{name}" });
        var result = await ExternalProcess.RunAsync(Peer.Require("curl"), arguments, TimeSpan.FromMinutes(3));
        if (result.ExitCode != 0) return $"{name}: curl {result}";
        byte[] back = await File.ReadAllBytesAsync(down);
        return bytes.AsSpan().SequenceEqual(back) ? null : $"{name}: curl's downloaded copy differs";
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < limit) await Task.Delay(50);
    }
}

/// <summary>The load tests run alone, so the descriptors and heap they count are the server's.</summary>
[CollectionDefinition("Load", DisableParallelization = true)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "An xunit collection definition: the suffix says what it is.")]
public sealed class LoadCollection;
