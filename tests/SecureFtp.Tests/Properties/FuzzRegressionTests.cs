using SecureFtp.Fuzz;
using SecureFtp.Listing;
using Xunit;

namespace SecureFtp.Tests.Properties;

/// <summary>Every input the fuzzer or a property test found to break a parser (Properties/FuzzRegressions/&lt;target&gt;/),
/// and every seed of the fuzz corpus (fuzz/corpus/&lt;target&gt;/), replayed through the same target: each must now
/// return or end in the module's own FtpException.</summary>
[Trait("Category", "Properties")]
public class FuzzRegressionTests
{
    private static string RepositoryRoot => PowerShell.HostedPowerShell.RepositoryRoot;

    public static IEnumerable<object[]> Inputs()
    {
        foreach (var folder in new[] { Path.Combine(AppContext.BaseDirectory, "Properties", "FuzzRegressions"), Path.Combine(RepositoryRoot, "fuzz", "corpus") })
            if (Directory.Exists(folder))
                foreach (var targetFolder in Directory.GetDirectories(folder).OrderBy(f => f, StringComparer.Ordinal))
                    foreach (var file in Directory.GetFiles(targetFolder).OrderBy(f => f, StringComparer.Ordinal))
                        yield return new object[] { Path.GetFileName(targetFolder), Path.GetRelativePath(folder, file), file };
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_is_answered_or_refused_with_the_modules_own_error(string target, string name, string path)
    {
        Assert.NotNull(name);
        try { ParserTargets.Get(target)(File.ReadAllBytes(path)); }
        catch (FtpException) { }
    }

    /// <summary>Found by the LIST property test: a size beyond a long, or in non-ASCII digits (which the pattern's \d
    /// accepts), threw OverflowException/FormatException out of ListingParser.ParseList; now the size is unknown.</summary>
    [Theory]
    [InlineData("-rw-r--r-- 1 0 0 99999999999999999999 Feb 29  2024 big")]
    [InlineData("-rw-r--r-- 1 0 0 \u0661\u0662 Jan \u0661 12:00 digits")]
    [InlineData("01-01-26  12:00PM  99999999999999999999 big")]
    public void List_line_with_an_unreadable_size_parses_with_the_size_unknown(string line)
    {
        var item = ListingParser.ParseList(line, "/", new DateTime(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.NotNull(item);
        Assert.Null(item!.Length);
    }
}
