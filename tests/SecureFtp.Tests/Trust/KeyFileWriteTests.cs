using System.Diagnostics;
using SecureFtp.Security.SafeTp;
using SecureFtp.Tests.PowerShell;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Trust;

/// <summary>Key files and the trust store on disk, against the local attacker and bad luck: another user reading a
/// key in the moment between creation and chmod, two writers at once (threads, processes), a crash mid-write.</summary>
public sealed class KeyFileWriteTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("secureftp-keyfiles-").FullName;

    public void Dispose()
    {
        AtomicFile.BeforeRename = null;
        Directory.Delete(_folder, recursive: true);
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The mode as stat(1) prints it (octal), as a user would check.</summary>
    private static string StatMode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", new[] { "-c", "%a", path }) { RedirectStandardOutput = true, UseShellExecute = false })!;
        string mode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return mode;
    }

    /// <summary>Records the mode of every temporary file of this test's folder at the moment it is complete and not
    /// yet renamed: the file exists under its temporary name from open(2) to rename(2), and a chmod after creation
    /// would leave it at the umask's 644 until then.</summary>
    private List<string> WatchTemporaryModes()
    {
        var modes = new List<string>();
        AtomicFile.BeforeRename = temp =>
        {
            if (temp.StartsWith(_folder, StringComparison.Ordinal)) lock (modes) modes.Add(StatMode(temp));
        };
        return modes;
    }

    [Fact]
    public void A_SafeTP_key_file_is_0600_from_creation_and_after_the_rename()
    {
        if (OperatingSystem.IsWindows()) return; // the profile folder's ACL protects it there (documented)
        var modes = WatchTemporaryModes();
        string serverPath = Path.Combine(_folder, "server.key"), clientPath = Path.Combine(_folder, "client.key");
        SafeTpKeys.Save(SafeTp.SafeTpTestKit.ServerKey, serverPath);
        SafeTpKeys.Save(SafeTp.SafeTpTestKit.ClientKey, clientPath);

        Assert.Equal(new[] { "600", "600" }, modes);
        Assert.Equal("600", StatMode(serverPath));
        Assert.Equal("600", StatMode(clientPath));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(serverPath));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void The_trust_store_is_0600_from_creation()
    {
        if (OperatingSystem.IsWindows()) return;
        var modes = WatchTemporaryModes();
        var store = new FileTrustStore(Path.Combine(_folder, "store"));
        store.Add(TrustedKey.FromFingerprint("h", 0, TrustKeyTypes.Tls, KeyFingerprint.Compute(new byte[] { 1 }), null));
        Assert.Equal(new[] { "600" }, modes);
        Assert.Equal("600", StatMode(store.FilePath));
        Assert.Equal("600", StatMode(Path.Combine(store.Location, "trusted-keys.lock")));
        Assert.Equal("700", StatMode(store.Location));
    }

    [Fact]
    public void A_crash_before_the_rename_leaves_the_previous_key_file_whole()
    {
        string path = Path.Combine(_folder, "server.key");
        SafeTpKeys.Save(SafeTp.SafeTpTestKit.ServerKey, path);
        string before = File.ReadAllText(path);

        AtomicFile.BeforeRename = temp => { if (temp.StartsWith(_folder, StringComparison.Ordinal)) throw new IOException("disk full (simulated)"); };
        Assert.Throws<IOException>(() => SafeTpKeys.Save(SafeTp.SafeTpTestKit.OtherServerKey, path));
        AtomicFile.BeforeRename = null;

        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal(SafeTp.SafeTpTestKit.ServerKey.Fingerprint, SafeTpKeys.LoadServerKey(path).Fingerprint);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void A_crash_mid_write_of_the_trust_store_loses_no_key_and_its_leftovers_are_cleared()
    {
        var store = new FileTrustStore(Path.Combine(_folder, "store"));
        store.Add(TrustedKey.FromFingerprint("kept.example", 0, TrustKeyTypes.Tls, KeyFingerprint.Compute(new byte[] { 1 }), null));

        // A writer died after writing half its temporary file: the store itself was never touched.
        string leftover = Path.Combine(store.Location, "." + FileTrustStore.FileName + "." + Guid.NewGuid().ToString("N") + ".tmp");
        File.WriteAllText(leftover, "kept.example\t0\tTLS\tAB:");
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddMinutes(-5));
        Assert.Single(new FileTrustStore(store.Location).GetAll());

        // And one dies at the rename: the store keeps what it had.
        AtomicFile.BeforeRename = temp => { if (temp.StartsWith(_folder, StringComparison.Ordinal)) throw new IOException("killed (simulated)"); };
        var e = Assert.Throws<FtpException>(() => store.Add(TrustedKey.FromFingerprint("lost.example", 0, TrustKeyTypes.Tls, KeyFingerprint.Compute(new byte[] { 2 }), null)));
        Assert.Equal("TrustStoreUnwritable", e.ErrorId);
        AtomicFile.BeforeRename = null;
        Assert.Equal(new[] { "kept.example" }, store.GetAll().Select(k => k.Host));

        store.Add(TrustedKey.FromFingerprint("next.example", 0, TrustKeyTypes.Tls, KeyFingerprint.Compute(new byte[] { 3 }), null));
        Assert.Equal(new[] { "kept.example", "next.example" }, store.GetAll().Select(k => k.Host));
        Assert.False(File.Exists(leftover));
    }

    [Fact]
    public void Writers_racing_for_a_new_key_file_without_overwrite_cannot_both_win()
    {
        string path = Path.Combine(_folder, "race.key");
        var winners = new System.Collections.Concurrent.ConcurrentBag<int>();
        var refused = new System.Collections.Concurrent.ConcurrentBag<int>();
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            start.Wait();
            try
            {
                AtomicFile.Write(path, new[] { (byte)i }, overwrite: false);
                winners.Add(i);
            }
            catch (FtpException e) when (e.ErrorId == "KeyFileExists") { refused.Add(i); }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());

        int winner = Assert.Single(winners);
        Assert.Equal(7, refused.Count);
        Assert.Equal(new[] { (byte)winner }, File.ReadAllBytes(path)); // the file is the winner's, not overwritten by a loser
    }

    [Fact]
    public void Sessions_creating_the_profile_client_key_at_once_end_up_sharing_one_key()
    {
        string path = Path.Combine(_folder, "profile", "safetp-client.key");
        var keys = new SafeTpClientKey[4];
        Parallel.For(0, keys.Length, i => keys[i] = SafeTpKeys.LoadOrCreateClientKey(path));
        var onDisk = SafeTpKeys.LoadClientKey(path);
        Assert.All(keys, k => Assert.Equal(onDisk.Y, k.Y));
    }

    [SkippableFact]
    public void Processes_adding_keys_to_one_trust_store_at_once_keep_every_key()
    {
        // Separate processes (the module in tools/SecureFtp.Host, as users' PowerShell sessions and scheduled jobs
        // run it), each adding keys one by one while the others do the same.
        string host = Path.Combine(HostedPowerShell.RepositoryRoot, "tools", "SecureFtp.Host", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "SecureFtp.Host.dll");
        if (!File.Exists(host) || !File.Exists(HostedPowerShell.ModuleManifest))
        {
            string why = $"the PowerShell host ({host}) or the built module is missing: build the solution first";
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", why);
            Skip.If(true, why);
        }
        string store = Path.Combine(_folder, "shared-store");
        const int processes = 3, keysEach = 15;
        var runs = Enumerable.Range(0, processes).Select(p =>
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(host);
            start.ArgumentList.Add("-Command");
            start.ArgumentList.Add($$"""
                $ErrorActionPreference = 'Stop'
                Import-Module SecureFtp
                foreach ($i in 1..{{keysEach}}) {
                    $fingerprint = -join ((1..32) | ForEach-Object { '{0:X2}' -f (({{p}} * 64 + $i + $_) % 256) })
                    $null = Add-FtpTrustedKey -ComputerName "p{{p}}-k$i.example" -Fingerprint $fingerprint -TrustStorePath '{{store}}'
                }
                'done'
                """);
            return Process.Start(start)!;
        }).ToList();
        foreach (var run in runs)
        {
            var stdout = run.StandardOutput.ReadToEndAsync();
            var stderr = run.StandardError.ReadToEndAsync();
            Assert.True(run.WaitForExit(180_000), "a writer did not finish");
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {stdout.Result} {stderr.Result}");
            run.Dispose();
        }
        var hosts = new FileTrustStore(store).GetAll().Select(k => k.Host).ToHashSet();
        Assert.Equal(processes * keysEach, hosts.Count);
        for (int p = 0; p < processes; p++)
            for (int i = 1; i <= keysEach; i++)
                Assert.Contains($"p{p}-k{i}.example", hosts);
    }
}
