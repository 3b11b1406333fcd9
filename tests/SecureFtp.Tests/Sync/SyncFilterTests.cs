using SecureFtp.Sync;
using Xunit;

namespace SecureFtp.Tests.Sync;

/// <summary>-Include / -Exclude wildcards: PowerShell's syntax, case-insensitive, names or relative paths.</summary>
public class SyncFilterTests
{
    [Theory]
    [InlineData("*.csv", "a/b/Report.CSV", "Report.CSV", true)]
    [InlineData("*.csv", "a/report.csv.bak", "report.csv.bak", false)]
    [InlineData("f?.bin", "f1.bin", "f1.bin", true)]
    [InlineData("f[0-4].bin", "f5.bin", "f5.bin", false)]
    [InlineData("f[0-4].bin", "f3.bin", "f3.bin", true)]
    [InlineData("2024/*.csv", "2024/jan.csv", "jan.csv", true)]
    [InlineData("2024/*.csv", "old/2024/jan.csv", "jan.csv", false)]
    [InlineData("a`*b", "a*b", "a*b", true)]
    [InlineData("a`*b", "axb", "axb", false)]
    [InlineData("(x)+.txt", "(x)+.txt", "(x)+.txt", true)]
    public void Include_matches_names_or_relative_paths(string pattern, string path, string name, bool taken)
        => Assert.Equal(taken, new SyncFilter(new[] { pattern }, null).TakesFile(path, name));

    [Fact]
    public void Exclude_wins_over_include_and_no_include_takes_everything()
    {
        var filter = new SyncFilter(new[] { "*.log" }, new[] { "debug*" });
        Assert.True(filter.TakesFile("app.log", "app.log"));
        Assert.False(filter.TakesFile("debug.log", "debug.log"));
        Assert.True(new SyncFilter(null, null).TakesFile("x/any", "any"));
    }
}
