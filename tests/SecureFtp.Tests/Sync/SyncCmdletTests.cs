using System.Management.Automation;
using SecureFtp.Listing;
using SecureFtp.Sync;
using SecureFtp.Tests.Hostile;
using SecureFtp.Tests.PowerShell;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.Sync;

/// <summary>Sync-FtpDirectory in a hosted PowerShell against the embedded server (AUTH TLS, pinned) and the
/// hostile server: output objects, -WhatIf, error records with ids and $?, progress over the job.</summary>
public sealed class SyncCmdletTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-sync-cmdlet-").FullName;
    private string Local => Path.Combine(_work, "local");

    public async Task InitializeAsync() => _server = await RunningServer.StartRootAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_work, true);
        if (_server.RootDirectory != null && Directory.Exists(_server.RootDirectory)) Directory.Delete(_server.RootDirectory, true);
    }

    private HostedPowerShell Connected()
    {
        var ps = new HostedPowerShell();
        ps.Run("$null = Connect-SecureFtp -ComputerName 127.0.0.1 -Port $port -Credential $credential -Mechanism Tls -CertificateThumbprint $thumbprint",
            ("port", _server.Port), ("credential", CmdletSessionTests.Credential(RunningServer.UserName, RunningServer.Password)),
            ("thumbprint", _server.Server.Options.Certificate!.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256))).ThrowOnError();
        return ps;
    }

    /// <summary>The SyncAction objects written, read through their properties: the module's engine lives in its own
    /// assembly load context, so its types are not this test assembly's.</summary>
    private static List<Written> Actions(ScriptResult r) => r.Output
        .Where(o => o.BaseObject.GetType().FullName == "SecureFtp.Sync.SyncAction")
        .Select(o => new Written(Enum.Parse<SyncActionType>(o.Properties["Action"].Value.ToString()!), (string)o.Properties["Path"].Value,
            Convert.ToInt64(o.Properties["Bytes"].Value, System.Globalization.CultureInfo.InvariantCulture), o.Properties["ErrorId"].Value as string))
        .ToList();

    private sealed record Written(SyncActionType Action, string Path, long Bytes, string? ErrorId);

    [Fact]
    public void Writes_one_action_per_path_and_a_second_run_only_skips()
    {
        _server.CreateFile("data/a.bin", 5000);
        _server.CreateFile("data/sub/b.bin", 10);
        using var ps = Connected();

        var first = ps.Run("Sync-FtpDirectory /data $local", ("local", Local)).ThrowOnError();
        var actions = Actions(first);
        Assert.Equal(new[] { "a.bin", "sub/b.bin" }, actions.Select(a => a.Path).Order());
        Assert.All(actions, a => Assert.Equal(SyncActionType.Download, a.Action));
        Assert.Equal(5010, actions.Sum(a => a.Bytes));
        Assert.Equal(SyncKit.Tree(_server.LocalPath("data")), SyncKit.Tree(Local));
        // One bar over the whole job, completed at the end.
        Assert.Contains(first.Progress, p => p.Activity.StartsWith("Sync download", StringComparison.Ordinal) && p.StatusDescription.Contains("of 2 files"));
        Assert.Contains(first.Progress, p => p.RecordType == ProgressRecordType.Completed);

        var second = ps.Run("Sync-FtpDirectory /data $local; $?", ("local", Local)).ThrowOnError();
        Assert.All(Actions(second), a => Assert.Equal(SyncActionType.Skip, a.Action));
        Assert.Equal(2, Actions(second).Count);
        Assert.Equal(true, second.Output.Last().BaseObject);

        // The module's format file has a table view for SyncAction that shows the sanitized path.
        var format = File.ReadAllText(Path.Combine(HostedPowerShell.ModuleDirectory, "SecureFtp.Format.ps1xml"));
        int view = format.IndexOf("<TypeName>SecureFtp.Sync.SyncAction</TypeName>", StringComparison.Ordinal);
        Assert.True(view > 0);
        Assert.Contains("<PropertyName>DisplayPath</PropertyName>", format[view..]);
    }

    [Fact]
    public void WhatIf_changes_nothing_in_either_direction()
    {
        _server.CreateFile("data/a.bin", 100);
        SyncKit.WriteRandom(Path.Combine(Local, "only-local.txt"), 7);
        var before = SyncKit.Tree(Local);
        using var ps = Connected();

        var down = ps.Run("Sync-FtpDirectory /data $local -Delete -WhatIf", ("local", Local)).ThrowOnError();
        Assert.Equal(before, SyncKit.Tree(Local));
        Assert.DoesNotContain(Actions(down), a => a.Action is SyncActionType.Download or SyncActionType.Delete);

        var remoteBefore = SyncKit.Tree(_server.LocalPath("data"));
        ps.Run("Sync-FtpDirectory /data $local -Direction Upload -Delete -WhatIf", ("local", Local)).ThrowOnError();
        Assert.Equal(remoteBefore, SyncKit.Tree(_server.LocalPath("data")));
        Assert.DoesNotContain(_server.Log, e => e.Message.Contains("STOR") || e.Message.Contains("DELE"));
    }

    [Fact]
    public void A_failed_file_is_a_non_terminating_error_with_an_id_the_job_goes_on_and_dollar_question_is_false()
    {
        _server.CreateFile("data/a.bin", 100);
        _server.CreateFile("data/b.bin", 100);
        Directory.CreateDirectory(Path.Combine(Local, "a.bin.part", "blocker"));
        using var ps = Connected();

        var result = ps.Run("Sync-FtpDirectory /data $local -ThrottleLimit 2; $?", ("local", Local));
        Assert.Null(result.Terminating);
        var error = Assert.Single(result.Errors);
        Assert.Equal("LocalWriteFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        // A directory where the file should go: the OS says access denied.
        Assert.Contains(error.CategoryInfo.Category, new[] { ErrorCategory.WriteError, ErrorCategory.PermissionDenied });
        Assert.Equal(false, result.Output.Last().BaseObject);
        var actions = Actions(result);
        Assert.Contains(actions, a => a.Path == "a.bin" && a.Action == SyncActionType.Error && a.ErrorId == "LocalWriteFailed");
        Assert.Contains(actions, a => a.Path == "b.bin" && a.Action == SyncActionType.Download);
        Assert.True(File.Exists(Path.Combine(Local, "b.bin")));
    }

    [Fact]
    public async Task Hostile_names_are_refused_with_UnsafeRemoteName_and_the_honest_ones_sync()
    {
        await using var hostile = new HostileFtpServer();
        hostile.Listing = dir => dir == "/"
            ? "-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 good.txt\r\n-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 ../escape.txt\r\n"
            : null;
        using var ps = new HostedPowerShell();
        ps.Run("$null = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism None -FallbackPolicy Allow",
            ("hostName", hostile.Host), ("port", hostile.Port), ("credential", CmdletSessionTests.Credential("user", "pw"))).ThrowOnError();

        var result = ps.Run("Sync-FtpDirectory / $local", ("local", Local));
        var error = Assert.Single(result.Errors);
        Assert.Equal(LocalPathGuard.UnsafeNameErrorId, error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(new[] { "good.txt" }, SyncKit.Tree(Local).Keys);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_work), p => Path.GetFileName(p) != "local");
    }

    [Fact]
    public void Upload_over_four_sessions_matches_the_local_tree()
    {
        for (int i = 0; i < 12; i++) SyncKit.WriteRandom(Path.Combine(Local, $"d{i % 2}", $"f{i}.bin"), 1000 + i);
        using var ps = Connected();
        var result = ps.Run("Sync-FtpDirectory -RemotePath /up -LocalPath $local -Direction Upload -ThrottleLimit 4", ("local", Local)).ThrowOnError();
        Assert.Equal(12, Actions(result).Count(a => a.Action == SyncActionType.Upload));
        Assert.Equal(SyncKit.Tree(Local), SyncKit.Tree(_server.LocalPath("up")));
        // The extra sessions are closed when the job ends; the user's session stays.
        Assert.Equal(1, Convert.ToInt32(ps.Run("@(Get-SecureFtpSession).Count").ThrowOnError().Single(), System.Globalization.CultureInfo.InvariantCulture));
    }
}
