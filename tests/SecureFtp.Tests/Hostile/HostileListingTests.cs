using SecureFtp.Listing;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.Hostile;

/// <summary>A server that lies in its listings must not decide where files land: the README's headline pipeline
/// (Get-FtpChildItem -Recurse | Receive-FtpFile -Destination D) against names built to escape D.</summary>
public sealed class HostileListingTests : IAsyncLifetime
{
    private readonly HostileFtpServer _server = new();
    private readonly string _root = Directory.CreateTempSubdirectory("hostile-").FullName;
    private string Destination => Path.Combine(_root, "dest");
    private string Outside => Path.Combine(_root, "outside");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Destination);
        Directory.CreateDirectory(Outside);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, true);
    }

    private static string File(string name) => $"-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 {name}\r\n";
    private static string Dir(string name) => $"drwxr-xr-x    2 ftp      ftp          4096 Jan 01  2024 {name}\r\n";

    private ScriptResult Run(HostedPowerShell ps, string script)
    {
        ps.Run("$null = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism None -FallbackPolicy Allow",
            ("hostName", _server.Host), ("port", _server.Port), ("credential", CmdletSessionTests.Credential("user", "pw"))).ThrowOnError();
        return ps.Run(script, ("dest", Destination));
    }

    [Fact]
    public void Recursive_download_keeps_every_file_inside_the_destination_and_still_fetches_the_honest_ones()
    {
        string[] hostile =
        {
            "../outside/escape.txt",                       // climbs out of the destination
            "..\\outside\\escape-backslash.txt",           // the same with Windows separators
            Path.Combine(Outside, "absolute.txt"),         // an absolute path
            "sub/through.txt",                             // a name that walks through a subdirectory
            "CON",                                         // a Windows device name
            "trailing.",                                   // Windows strips the dot: another file's name
            "esc\u001b]0;pwned\u0007.txt",                 // a terminal escape sequence
            new string('x', 300),                          // longer than any file system's NAME_MAX
        };
        _server.Listing = dir => dir switch
        {
            "/" => File("good.txt") + string.Concat(hostile.Select(File)) + Dir("sub") + Dir("../outside"),
            "/sub" => File("inner.txt") + File("../../outside/deep.txt"),
            _ => null,
        };

        using var ps = new HostedPowerShell();
        var result = Run(ps, "Get-FtpChildItem -Recurse | Receive-FtpFile -Destination $dest");

        // Nothing was written outside the destination, whatever the listing said.
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside, "*", SearchOption.AllDirectories));
        Assert.Equal(new[] { "dest", "outside" }, Directory.GetFileSystemEntries(_root).Select(Path.GetFileName).Order());
        // The honest entries arrived, in their places.
        Assert.Equal("content of /good.txt", System.IO.File.ReadAllText(Path.Combine(Destination, "good.txt")));
        Assert.Equal("content of /sub/inner.txt", System.IO.File.ReadAllText(Path.Combine(Destination, "sub", "inner.txt")));
        Assert.Equal(new[] { "good.txt", "sub" }, Directory.GetFileSystemEntries(Destination).Select(Path.GetFileName).Order());
        // Each hostile entry was refused by itself, with the id scripts branch on, named, and without the escape.
        var refusals = result.Errors.Where(e => e.FullyQualifiedErrorId.StartsWith(LocalPathGuard.UnsafeNameErrorId + ",", StringComparison.Ordinal)).ToList();
        Assert.Equal(hostile.Length + 2, refusals.Count);   // + the "../outside" directory and /sub's deep.txt
        Assert.Equal(refusals.Count, result.Errors.Count);
        Assert.Contains(refusals, e => e.Exception.Message.Contains("../outside/escape.txt", StringComparison.Ordinal));
        Assert.All(refusals, e => Assert.DoesNotContain('\u001b', e.Exception.Message));
        Assert.All(refusals, e => Assert.Equal(System.Management.Automation.ErrorCategory.ProtocolError, e.CategoryInfo.Category));
    }

    [Fact]
    public void A_server_file_name_is_checked_when_it_becomes_the_local_name()
    {
        // Without a listing: the remote path's file name is the local name when -Destination is a folder.
        using var ps = new HostedPowerShell();
        var result = Run(ps, "Receive-FtpFile -Path '/files/CON', '/files/ok.txt' -Destination $dest");
        Assert.Equal(LocalPathGuard.UnsafeNameErrorId, Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(new[] { "ok.txt" }, Directory.GetFileSystemEntries(Destination).Select(Path.GetFileName));
    }

    [Fact]
    public void An_endless_self_nesting_tree_stops_at_the_depth_bound()
    {
        // Every directory holds a directory of the same name: the tree never ends.
        _server.Listing = dir => dir.StartsWith('/') ? Dir("again") : null;
        using var ps = new HostedPowerShell();
        var result = Run(ps, "@(Get-FtpChildItem -Recurse -Directory).Count").ThrowOnError();
        Assert.Equal(65, Convert.ToInt32(result.Single(), System.Globalization.CultureInfo.InvariantCulture));   // the default -Depth 64, plus the top level
        Assert.Equal(65, _server.Commands.Count(c => c.StartsWith("LIST", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_directory_offered_twice_is_listed_once()
    {
        // MLSD: "/a" lists itself back under its absolute name, a loop a depth bound alone would walk 64 times.
        _server.Mlsd = true;
        _server.Listing = dir => dir switch
        {
            "/" => "type=dir; a\r\n",
            "/a" => "type=file;size=5; f.txt\r\ntype=dir; /a\r\n",
            _ => null,
        };
        using var ps = new HostedPowerShell();
        var result = Run(ps, "(Get-FtpChildItem -Recurse).FullName");
        Assert.Equal(new[] { "/a", "/a/f.txt", "/a" }, result.Output.Select(o => o.BaseObject.ToString()));
        Assert.Equal(2, _server.Commands.Count(c => c.StartsWith("MLSD", StringComparison.Ordinal)));
        Assert.Contains(result.Warnings, w => w.Contains("/a", StringComparison.Ordinal));
    }

    [Fact]
    public void The_table_view_shows_names_without_terminal_escapes_and_the_object_keeps_the_raw_name()
    {
        _server.Listing = dir => dir == "/" ? File("evil\u001b[2J\u001b]0;owned\u0007.txt") : null;
        using var ps = new HostedPowerShell();
        var shown = Run(ps, "(Get-FtpChildItem).DisplayName").ThrowOnError();
        Assert.Equal("evil\u241b[2J\u241b]0;owned\u2407.txt", shown.Single());
        // The table view shows that property, not the raw name.
        var format = System.IO.File.ReadAllText(Path.Combine(HostedPowerShell.ModuleDirectory, "SecureFtp.Format.ps1xml"));
        Assert.Contains("<PropertyName>DisplayName</PropertyName>", format);
        var raw = ps.Run("(Get-FtpChildItem).Name").ThrowOnError();
        Assert.Equal("evil\u001b[2J\u001b]0;owned\u0007.txt", raw.Single());
    }
}

/// <summary>The rules of <see cref="LocalPathGuard"/> one by one.</summary>
public class LocalPathGuardTests
{
    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("/etc")]
    [InlineData("a\\b")]
    [InlineData("nul\0byte")]
    [InlineData("line\nbreak")]
    [InlineData("esc\u001b[31m")]
    [InlineData("c1\u009bcontrol")]
    [InlineData("CON")]
    [InlineData("con.txt")]
    [InlineData("Com1")]
    [InlineData("LPT9.log")]
    [InlineData("AUX .x")]
    [InlineData("name.")]
    [InlineData("name ")]
    public void Unsafe_names_are_refused(string name) => Assert.NotNull(LocalPathGuard.WhyUnsafe(name));

    [Theory]
    [InlineData("report.csv")]
    [InlineData(".hidden")]
    [InlineData("..dots")]
    [InlineData("with space.txt")]
    [InlineData("CONSOLE.txt")]
    [InlineData("Ünïcödé—名前.txt")]
    public void Ordinary_names_pass(string name) => Assert.Null(LocalPathGuard.WhyUnsafe(name));

    [Fact]
    public void A_name_over_255_bytes_is_refused_even_when_it_has_fewer_characters()
    {
        Assert.Null(LocalPathGuard.WhyUnsafe(new string('a', 255)));
        Assert.NotNull(LocalPathGuard.WhyUnsafe(new string('a', 256)));
        Assert.NotNull(LocalPathGuard.WhyUnsafe(new string('é', 128)));   // 256 bytes in UTF-8
    }

    [Fact]
    public void Resolved_paths_stay_under_the_root()
    {
        string root = Path.Combine(Path.GetTempPath(), "guard-root");
        Assert.Equal(Path.Combine(root, "a", "b.txt"), LocalPathGuard.ResolveUnder(root, "a/b.txt"));
        var e = Assert.Throws<FtpException>(() => LocalPathGuard.ResolveUnder(root, "a/../../b.txt"));
        Assert.Equal(LocalPathGuard.UnsafeNameErrorId, e.ErrorId);
        Assert.Throws<FtpException>(() => LocalPathGuard.ResolveUnder(root, "/etc/passwd"));
        Assert.Throws<FtpException>(() => LocalPathGuard.ResolveUnder(root, ""));
    }

    [Fact]
    public void Terminal_text_replaces_escapes_and_bidi_overrides_and_leaves_the_rest()
    {
        Assert.Equal("plain name.txt", TerminalText.Sanitize("plain name.txt"));
        Assert.Equal("a\u241b[2Jb", TerminalText.Sanitize("a\u001b[2Jb"));
        Assert.Equal("x\uFFFDtxt.exe", TerminalText.Sanitize("x\u202Etxt.exe"));
    }
}
