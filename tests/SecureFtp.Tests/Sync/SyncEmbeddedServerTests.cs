using SecureFtp.Security;
using SecureFtp.Listing;
using SecureFtp.Sync;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.Sync;

/// <summary>The sync engine against the embedded server (root mode, AUTH TLS, PROT P): both directions, reruns,
/// -Delete, resume, failures that must not stop the job, and parallel sessions.</summary>
public sealed class SyncEmbeddedServerTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private FtpClient _client = null!;
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-sync-").FullName;
    private string Local => Path.Combine(_work, "local");

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartRootAsync();
        _client = await FtpClient.ConnectAsync(SyncKit.EmbeddedOptions(_server));
    }

    public async Task DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_work, true);
        if (_server.RootDirectory != null && Directory.Exists(_server.RootDirectory)) Directory.Delete(_server.RootDirectory, true);
    }

    private SyncOptions Down(string remote = "/data") => new() { RemotePath = remote, LocalPath = Local, Direction = SyncDirection.Download };
    private SyncOptions Up(string remote = "/data") => new() { RemotePath = remote, LocalPath = Local, Direction = SyncDirection.Upload };

    private void ServeTree()
    {
        _server.CreateFile("data/a.bin", 70_000);
        _server.CreateFile("data/sub/b.bin", 3);
        _server.CreateFile("data/sub/deep/c.bin", 200_000);
        _server.CreateFile("data/empty.bin", 0);
    }

    [Fact]
    public async Task A_download_sync_copies_the_tree_with_remote_times_and_a_second_run_transfers_nothing()
    {
        ServeTree();
        var old = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(_server.LocalPath("data/a.bin"), old);

        var first = await SyncKit.SyncAsync(_client, Down());
        Assert.Equal(new[] { "a.bin", "empty.bin", "sub/b.bin", "sub/deep/c.bin" }, first.Paths(SyncActionType.Download));
        Assert.Empty(first.Of(SyncActionType.Error));
        Assert.Equal(SyncKit.Tree(_server.LocalPath("data")), SyncKit.Tree(Local));
        Assert.Equal(old, File.GetLastWriteTimeUtc(Path.Combine(Local, "a.bin")));
        Assert.Empty(Directory.EnumerateFiles(Local, "*.part", SearchOption.AllDirectories));

        var second = await SyncKit.SyncAsync(_client, Down());
        Assert.Equal(0, second.Transfers);
        Assert.Equal(4, second.Of(SyncActionType.Skip).Count());

        // A changed remote file (same size, new time) is fetched again; nothing else is.
        _server.CreateFile("data/sub/b.bin", 3);
        File.SetLastWriteTimeUtc(_server.LocalPath("data/sub/b.bin"), old.AddDays(1));
        var third = await SyncKit.SyncAsync(_client, Down());
        Assert.Equal(new[] { "sub/b.bin" }, third.Paths(SyncActionType.Download));
        Assert.Equal(SyncKit.Tree(_server.LocalPath("data")), SyncKit.Tree(Local));
    }

    [Fact]
    public async Task An_upload_sync_copies_the_tree_and_a_second_run_transfers_nothing()
    {
        SyncKit.WriteRandom(Path.Combine(Local, "one.bin"), 10_000);
        SyncKit.WriteRandom(Path.Combine(Local, "dir", "two.bin"), 1);
        SyncKit.WriteRandom(Path.Combine(Local, "dir", "more", "three.bin"), 300_000);

        var first = await SyncKit.SyncAsync(_client, Up("/up"));
        Assert.Equal(new[] { "dir/more/three.bin", "dir/two.bin", "one.bin" }, first.Paths(SyncActionType.Upload));
        Assert.Empty(first.Of(SyncActionType.Error));
        Assert.Equal(SyncKit.Tree(Local), SyncKit.Tree(_server.LocalPath("up")));

        var second = await SyncKit.SyncAsync(_client, Up("/up"));
        Assert.Equal(0, second.Transfers);

        // A local change is sent again.
        SyncKit.WriteRandom(Path.Combine(Local, "dir", "two.bin"), 2);
        var third = await SyncKit.SyncAsync(_client, Up("/up"));
        Assert.Equal(new[] { "dir/two.bin" }, third.Paths(SyncActionType.Upload));
        Assert.Equal(SyncKit.Tree(Local), SyncKit.Tree(_server.LocalPath("up")));
    }

    [Fact]
    public async Task Delete_removes_only_what_the_source_lacks_and_only_below_the_synced_root()
    {
        ServeTree();
        await SyncKit.SyncAsync(_client, Down());
        // Extra local entries inside the root, and neighbours that merely share the root's name as a prefix.
        SyncKit.WriteRandom(Path.Combine(Local, "stale.txt"), 5);
        SyncKit.WriteRandom(Path.Combine(Local, "gone", "inner.txt"), 5);
        SyncKit.WriteRandom(Path.Combine(_work, "local2", "keep.txt"), 5);
        SyncKit.WriteRandom(Path.Combine(_work, "keep.txt"), 5);

        var withoutDelete = await SyncKit.SyncAsync(_client, Down());
        Assert.Empty(withoutDelete.Of(SyncActionType.Delete));
        Assert.True(File.Exists(Path.Combine(Local, "stale.txt")));

        var options = Down();
        options.Delete = true;
        var result = await SyncKit.SyncAsync(_client, options);
        Assert.Equal(new[] { "gone", "gone/inner.txt", "stale.txt" }, result.Paths(SyncActionType.Delete));
        Assert.Empty(result.Of(SyncActionType.Error));
        Assert.Equal(SyncKit.Tree(_server.LocalPath("data")), SyncKit.Tree(Local));
        Assert.False(Directory.Exists(Path.Combine(Local, "gone")));
        Assert.True(File.Exists(Path.Combine(_work, "local2", "keep.txt")));
        Assert.True(File.Exists(Path.Combine(_work, "keep.txt")));

        // Upload direction: DELE/RMD on the server, inside the remote root only.
        _server.CreateFile("data/remote-only.bin", 4);
        _server.CreateFile("data/old/x.bin", 4);
        _server.CreateFile("elsewhere/keep.bin", 4);
        var up = Up();
        up.Delete = true;
        var upResult = await SyncKit.SyncAsync(_client, up);
        Assert.Equal(new[] { "old", "old/x.bin", "remote-only.bin" }, upResult.Paths(SyncActionType.Delete));
        Assert.False(File.Exists(_server.LocalPath("data/remote-only.bin")));
        Assert.False(Directory.Exists(_server.LocalPath("data/old")));
        Assert.True(File.Exists(_server.LocalPath("elsewhere/keep.bin")));
    }

    [Fact]
    public async Task Excluded_entries_are_neither_transferred_nor_deleted()
    {
        ServeTree();
        SyncKit.WriteRandom(Path.Combine(Local, "notes.tmp"), 5);
        var options = Down();
        options.Delete = true;
        options.Exclude = new List<string> { "*.tmp", "deep" };
        options.Include = new List<string> { "*.bin", "*.tmp" };
        var result = await SyncKit.SyncAsync(_client, options);
        Assert.Equal(new[] { "a.bin", "empty.bin", "sub/b.bin" }, result.Paths(SyncActionType.Download));
        Assert.Empty(result.Of(SyncActionType.Delete));
        Assert.True(File.Exists(Path.Combine(Local, "notes.tmp")));
        Assert.False(Directory.Exists(Path.Combine(Local, "sub", "deep")));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_from_its_partial_file_and_ends_identical()
    {
        string hash = _server.CreateFile("data/big.bin", 1_000_000);
        var content = File.ReadAllBytes(_server.LocalPath("data/big.bin"));
        Directory.CreateDirectory(Local);
        // What an interrupted run leaves: the temporary name with the first part of the file.
        File.WriteAllBytes(Path.Combine(Local, "big.bin.part"), content.AsSpan(0, 400_000).ToArray());

        var result = await SyncKit.SyncAsync(_client, Down());
        var download = Assert.Single(result.Of(SyncActionType.Download));
        Assert.Equal(600_000, download.Bytes);
        Assert.Contains("Resumed at byte 400000", download.Reason);
        Assert.Equal(hash, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(Local, "big.bin")))));
        Assert.False(File.Exists(Path.Combine(Local, "big.bin.part")));
        Assert.Contains(_server.Log, e => e.Message.Contains("REST 400000"));
    }

    [Fact]
    public async Task A_file_that_fails_is_an_error_of_its_own_and_the_job_goes_on()
    {
        ServeTree();
        // The temporary name of a.bin is taken by a directory: that one download cannot be written.
        Directory.CreateDirectory(Path.Combine(Local, "a.bin.part", "blocker"));
        var result = await SyncKit.SyncAsync(_client, Down());
        var error = Assert.Single(result.Of(SyncActionType.Error));
        Assert.Equal("a.bin", error.Path);
        Assert.NotNull(error.ErrorId);
        Assert.Equal(new[] { "empty.bin", "sub/b.bin", "sub/deep/c.bin" }, result.Paths(SyncActionType.Download));
        Assert.False(File.Exists(Path.Combine(Local, "a.bin")));
    }

    [Fact]
    public async Task Four_sessions_give_the_same_result_as_one()
    {
        for (int i = 0; i < 24; i++) _server.CreateFile($"data/d{i % 3}/f{i:00}.bin", 1000 + i * 997);
        var one = Down();
        one.LocalPath = Path.Combine(_work, "one");
        var four = Down();
        four.LocalPath = Path.Combine(_work, "four");
        four.ThrottleLimit = 4;

        var r1 = await SyncKit.SyncAsync(_client, one);
        var r4 = await SyncKit.SyncAsync(_client, four);
        Assert.Equal(0, r1.ExtraSessions);
        Assert.Equal(3, r4.ExtraSessions);
        Assert.Equal(r1.Paths(SyncActionType.Download), r4.Paths(SyncActionType.Download));
        Assert.Equal(SyncKit.Tree(_server.LocalPath("data")), SyncKit.Tree(one.LocalPath));
        Assert.Equal(SyncKit.Tree(one.LocalPath), SyncKit.Tree(four.LocalPath));
        Assert.True(_client.IsConnected);

        // And uploads over four sessions.
        var up = new SyncOptions { RemotePath = "/copy", LocalPath = four.LocalPath, Direction = SyncDirection.Upload, ThrottleLimit = 4 };
        var ru = await SyncKit.SyncAsync(_client, up);
        Assert.Equal(24, ru.Of(SyncActionType.Upload).Count());
        Assert.Equal(SyncKit.Tree(four.LocalPath), SyncKit.Tree(_server.LocalPath("copy")));
    }

    [Fact]
    public async Task Hash_criteria_says_per_file_when_the_server_offers_no_hash()
    {
        ServeTree();
        await SyncKit.SyncAsync(_client, Down());
        _server.CreateFile("data/new.bin", 10);
        var options = Down();
        options.Criteria = SyncCriteria.Hash;
        var result = await SyncKit.SyncAsync(_client, options);
        // Files on both sides with equal sizes need a digest the server does not have: one error each, not silence.
        Assert.Equal(4, result.Of(SyncActionType.Error).Count());
        Assert.All(result.Of(SyncActionType.Error), e => Assert.Equal("HashUnavailable", e.ErrorId));
        Assert.Equal(new[] { "new.bin" }, result.Paths(SyncActionType.Download));
    }

    [Fact]
    public async Task Another_session_like_this_one_has_the_same_security_and_login()
    {
        using var clone = await _client.CloneAsync();
        Assert.Equal("TLS", clone.Security.Mechanism);
        Assert.Equal(_client.UserName, clone.UserName);
        Assert.Equal(DataProtectionLevel.Private, clone.DataProtection);
        Assert.Equal(new[] { FtpMechanism.Tls }, _client.CloneOptions().Mechanisms);
        Assert.True(_client.CloneOptions().ErrorOnUntrusted);
        await clone.DisconnectAsync();
    }

    [Fact]
    public async Task Setting_a_remote_time_either_works_and_reads_back_or_says_it_cannot()
    {
        _server.CreateFile("t.bin", 5);
        var when = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        bool set = await _client.SetModifiedTimeAsync("/t.bin", when);
        if (set) Assert.Equal(when, await _client.GetModifiedTimeAsync("/t.bin"));
        else Assert.NotEqual(when, File.GetLastWriteTimeUtc(_server.LocalPath("t.bin")));
    }
}
