using SecureFtp.Listing;
using SecureFtp.Sync;
using SecureFtp.Tests.Hostile;
using Xunit;

namespace SecureFtp.Tests.Sync;

/// <summary>A server that lies in its listings against the sync engine: hostile names are refused one by one
/// (UnsafeRemoteName), honest entries still sync, nothing lands outside the local root, and nothing is deleted
/// because of what the server could not or would not list.</summary>
public sealed class SyncHostileServerTests : IAsyncLifetime
{
    private readonly HostileFtpServer _server = new();
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-sync-hostile-").FullName;
    private FtpClient _client = null!;
    private string Destination => Path.Combine(_root, "dest");
    private string Outside => Path.Combine(_root, "outside");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Destination);
        Directory.CreateDirectory(Outside);
        _client = await FtpClient.ConnectAsync(new FtpClientOptions
        {
            Host = _server.Host,
            Port = _server.Port,
            Credential = new System.Net.NetworkCredential("user", "pw"),
            Mechanisms = new List<FtpMechanism> { FtpMechanism.None },
        });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, true);
    }

    private static string File(string name) => $"-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 {name}\r\n";
    private static string Dir(string name) => $"drwxr-xr-x    2 ftp      ftp          4096 Jan 01  2024 {name}\r\n";
    private SyncOptions Down(bool delete = false) => new() { RemotePath = "/", LocalPath = Destination, Delete = delete };

    [Fact]
    public async Task Hostile_names_are_refused_per_item_while_the_honest_ones_sync()
    {
        string[] hostile = { "../outside/escape.txt", "..\\outside\\bs.txt", Path.Combine(Outside, "absolute.txt"), "sub/through.txt", "CON", "trailing.", "esc\u001b]0;x\u0007.txt", new string('x', 300) };
        _server.Listing = dir => dir switch
        {
            "/" => File("good.txt") + string.Concat(hostile.Select(File)) + Dir("sub") + Dir(".."),
            "/sub" => File("inner.txt") + File("../../outside/deep.txt"),
            _ => null,
        };

        var result = await SyncKit.SyncAsync(_client, Down());

        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside, "*", SearchOption.AllDirectories));
        Assert.Equal(new[] { "good.txt", "sub/inner.txt" }, SyncKit.Tree(Destination).Keys);
        Assert.Equal("content of /good.txt", System.IO.File.ReadAllText(Path.Combine(Destination, "good.txt")));
        Assert.Equal(new[] { "good.txt", "sub/inner.txt" }, result.Paths(SyncActionType.Download));
        var errors = result.Of(SyncActionType.Error).ToList();
        Assert.Equal(hostile.Length + 1, errors.Count);   // + /sub's deep.txt (".." is the parent entry, dropped by the parser)
        Assert.All(errors, e => Assert.Equal(LocalPathGuard.UnsafeNameErrorId, e.ErrorId));
        Assert.All(errors, e => Assert.DoesNotContain('\u001b', e.Reason));
        Assert.All(errors, e => Assert.DoesNotContain('\u001b', e.DisplayPath));
        // Nothing was even asked for under a hostile name.
        Assert.DoesNotContain(_server.Commands, c => c.StartsWith("RETR", StringComparison.Ordinal) && (c.Contains("..") || c.Contains("CON")));
    }

    [Fact]
    public async Task An_mlsd_entry_naming_a_path_elsewhere_is_refused()
    {
        _server.Mlsd = true;
        _server.Listing = dir => dir switch
        {
            "/" => "type=dir; a\r\n",
            "/a" => "type=file;size=5; ok.txt\r\ntype=file;size=5; /etc/passwd\r\n",
            _ => null,
        };
        // FEAT is read at login: a new session sees MLST.
        _client.Dispose();
        _client = await FtpClient.ConnectAsync(_client.Options);
        var result = await SyncKit.SyncAsync(_client, Down());
        Assert.Equal(new[] { "a/ok.txt" }, result.Paths(SyncActionType.Download));
        var refused = Assert.Single(result.Of(SyncActionType.Error));
        Assert.Equal(LocalPathGuard.UnsafeNameErrorId, refused.ErrorId);
        Assert.Contains("/etc/passwd", refused.Reason);
        Assert.DoesNotContain(_server.Commands, c => c.Contains("/etc/passwd") && c.StartsWith("RETR", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_never_acts_on_what_the_server_would_not_list_or_named_unsafely()
    {
        // /sub cannot be listed (550): its local copy is not "gone", it is unknown, and stays.
        _server.Listing = dir => dir switch
        {
            "/" => File("good.txt") + Dir("sub") + File("CON"),
            _ => null,
        };
        SyncKit.WriteRandom(Path.Combine(Destination, "sub", "precious.txt"), 10);
        SyncKit.WriteRandom(Path.Combine(Destination, "stale.txt"), 10);

        var result = await SyncKit.SyncAsync(_client, Down(delete: true));
        Assert.True(System.IO.File.Exists(Path.Combine(Destination, "sub", "precious.txt")));
        Assert.Equal(new[] { "stale.txt" }, result.Paths(SyncActionType.Delete));
        Assert.Contains(result.Of(SyncActionType.Error), e => e.Path == "sub");
        Assert.Contains(result.Of(SyncActionType.Error), e => e.Path == "CON" && e.ErrorId == LocalPathGuard.UnsafeNameErrorId);
    }

    [Fact]
    public async Task A_local_symbolic_link_is_never_written_through()
    {
        if (OperatingSystem.IsWindows()) return;
        // The local "sub" is a link to a folder outside the destination; the server offers sub/inner.txt.
        Directory.CreateSymbolicLink(Path.Combine(Destination, "sub"), Outside);
        _server.Listing = dir => dir switch { "/" => Dir("sub") + File("good.txt"), "/sub" => File("inner.txt"), _ => null };
        var result = await SyncKit.SyncAsync(_client, Down(delete: true));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
        Assert.Contains(result.Of(SyncActionType.Error), e => e.Path == "sub/inner.txt" && e.ErrorId == "SyncPathConflict");
        Assert.Equal(new[] { "good.txt" }, result.Paths(SyncActionType.Download));
    }
}
