using SecureFtp.Sync;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Sync;

/// <summary>The sync engine against Debian's vsftpd over AUTH TLS with PROT P and TLS session reuse required: a
/// LIST-only server (no MLSD), so times come from MDTM, and remote times are set with "MDTM time path".</summary>
public sealed class SyncVsftpdTests(VsftpdFixture vsftpd) : IClassFixture<VsftpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-sync-vsftpd-").FullName;
    private readonly string _case = "sync-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => Directory.Delete(_work, true);

    private async Task<FtpClient> ConnectAsync() => await FtpClient.ConnectAsync(vsftpd.Require().ClientOptions(FtpServerFixture.HostName));

    private SyncOptions Options(SyncDirection direction, string local, int throttle = 1) => new()
    {
        RemotePath = vsftpd.RemotePath(_case),
        LocalPath = local,
        Direction = direction,
        ThrottleLimit = throttle,
    };

    private static long Seconds(DateTime t) => t.Ticks / TimeSpan.TicksPerSecond;

    [SkippableFact]
    public async Task A_download_sync_takes_remote_times_and_a_second_run_transfers_nothing()
    {
        using var client = await ConnectAsync();
        vsftpd.CreateFile($"{_case}/a.bin", 50_000);
        vsftpd.CreateFile($"{_case}/sub/b.bin", 7);
        File.SetLastWriteTimeUtc(vsftpd.LocalPath($"{_case}/a.bin"), new DateTime(2019, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        string local = Path.Combine(_work, "down");

        var first = await SyncKit.SyncAsync(client, Options(SyncDirection.Download, local));
        Assert.Equal(new[] { "a.bin", "sub/b.bin" }, first.Paths(SyncActionType.Download));
        Assert.Equal(SyncKit.Tree(vsftpd.LocalPath(_case)), SyncKit.Tree(local));
        Assert.Equal(new DateTime(2019, 5, 6, 7, 8, 9, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(local, "a.bin")));

        var second = await SyncKit.SyncAsync(client, Options(SyncDirection.Download, local));
        Assert.Equal(0, second.Transfers);
        Assert.Empty(second.Of(SyncActionType.Error));
    }

    [SkippableFact]
    public async Task An_upload_sync_sets_the_remote_times_and_a_second_run_transfers_nothing()
    {
        using var client = await ConnectAsync();
        vsftpd.CreateFile($"{_case}/placeholder.txt", 1);       // the remote root, owned by the login
        File.Delete(vsftpd.LocalPath($"{_case}/placeholder.txt"));
        string local = Path.Combine(_work, "up");
        SyncKit.WriteRandom(Path.Combine(local, "x.bin"), 123_456);
        SyncKit.WriteRandom(Path.Combine(local, "nested", "y.bin"), 3);
        var stamp = new DateTime(2018, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddMilliseconds(700);   // sub-second: FTP keeps seconds
        File.SetLastWriteTimeUtc(Path.Combine(local, "x.bin"), stamp);

        var first = await SyncKit.SyncAsync(client, Options(SyncDirection.Upload, local));
        Assert.Equal(new[] { "nested/y.bin", "x.bin" }, first.Paths(SyncActionType.Upload));
        Assert.Empty(first.Of(SyncActionType.Error));
        Assert.Equal(SyncKit.Tree(local), SyncKit.Tree(vsftpd.LocalPath(_case)));
        Assert.Equal(Seconds(stamp), Seconds(File.GetLastWriteTimeUtc(vsftpd.LocalPath($"{_case}/x.bin"))));
        Assert.DoesNotContain("could not take", Assert.Single(first.Of(SyncActionType.Upload), a => a.Path == "x.bin").Reason);

        var second = await SyncKit.SyncAsync(client, Options(SyncDirection.Upload, local));
        Assert.Equal(0, second.Transfers);
    }

    [SkippableFact]
    public async Task Delete_on_the_server_stays_below_the_remote_root()
    {
        using var client = await ConnectAsync();
        vsftpd.CreateFile($"{_case}/keep.bin", 10);
        vsftpd.CreateFile($"{_case}/extra.bin", 10);
        vsftpd.CreateFile($"{_case}/olddir/inner.bin", 10);
        vsftpd.CreateFile($"{_case}-sibling/keep.bin", 10);
        string local = Path.Combine(_work, "del");
        Directory.CreateDirectory(local);
        File.Copy(vsftpd.LocalPath($"{_case}/keep.bin"), Path.Combine(local, "keep.bin"));

        var options = Options(SyncDirection.Upload, local);
        options.Delete = true;
        var result = await SyncKit.SyncAsync(client, options);
        Assert.Equal(new[] { "extra.bin", "olddir", "olddir/inner.bin" }, result.Paths(SyncActionType.Delete));
        Assert.Empty(result.Of(SyncActionType.Error));
        Assert.Equal(new[] { "keep.bin" }, SyncKit.Tree(vsftpd.LocalPath(_case)).Keys);
        Assert.True(File.Exists(vsftpd.LocalPath($"{_case}-sibling/keep.bin")));
    }

    [SkippableFact]
    public async Task Four_sessions_give_the_same_result_as_one()
    {
        using var client = await ConnectAsync();
        for (int i = 0; i < 16; i++) vsftpd.CreateFile($"{_case}/f{i:00}.bin", 4096 + i);
        var r1 = await SyncKit.SyncAsync(client, Options(SyncDirection.Download, Path.Combine(_work, "one"), 1));
        var r4 = await SyncKit.SyncAsync(client, Options(SyncDirection.Download, Path.Combine(_work, "four"), 4));
        Assert.Equal(3, r4.ExtraSessions);
        Assert.Equal(16, r4.Of(SyncActionType.Download).Count());
        Assert.Empty(r4.Of(SyncActionType.Error));
        Assert.Equal(r1.Paths(SyncActionType.Download), r4.Paths(SyncActionType.Download));
        Assert.Equal(SyncKit.Tree(Path.Combine(_work, "one")), SyncKit.Tree(Path.Combine(_work, "four")));
        Assert.Equal(SyncKit.Tree(vsftpd.LocalPath(_case)), SyncKit.Tree(Path.Combine(_work, "four")));
    }

    [SkippableFact]
    public async Task A_missing_remote_root_is_an_error_not_an_empty_tree_to_delete_against()
    {
        // vsftpd lists a path that does not exist as empty; with -Delete that must not empty the local folder.
        using var client = await ConnectAsync();
        string local = Path.Combine(_work, "precious");
        SyncKit.WriteRandom(Path.Combine(local, "keep.bin"), 10);
        var options = Options(SyncDirection.Download, local);
        options.RemotePath = vsftpd.RemotePath(_case + "-typo");
        options.Delete = true;
        var e = await Assert.ThrowsAsync<FtpException>(() => SyncPlanner.PlanAsync(client, options));
        Assert.Equal("RemotePathNotFound", e.ErrorId);
        Assert.True(File.Exists(Path.Combine(local, "keep.bin")));

        // An existing but empty remote folder is a real empty tree.
        vsftpd.CreateFile($"{_case}/x.txt", 1);
        File.Delete(vsftpd.LocalPath($"{_case}/x.txt"));
        options.RemotePath = vsftpd.RemotePath(_case);
        var result = await SyncKit.SyncAsync(client, options);
        Assert.Equal(new[] { "keep.bin" }, result.Paths(SyncActionType.Delete));
    }
}
