using SecureFtp;
using SecureFtp.Listing;
using Xunit;

namespace SecureFtp.Tests.Client;

public class ListingParserTests
{
    private static readonly DateTime Now = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void MlsdFactsAndNameWithSpacesAndSemicolons()
    {
        var item = ListingParser.ParseMlsd("type=file;size=1024;modify=20240102030405.123;UNIX.mode=0644;unix.owner=ftp; my file;v2.txt", "/pub")!;
        Assert.Equal("my file;v2.txt", item.Name);
        Assert.Equal("/pub/my file;v2.txt", item.FullName);
        Assert.Equal(FtpItemType.File, item.Type);
        Assert.Equal(1024, item.Length);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, 123, DateTimeKind.Utc), item.LastWriteTime);
        Assert.Equal(DateTimeKind.Utc, item.LastWriteTime!.Value.Kind);
        Assert.Equal("0644", item.Permissions);
        Assert.Equal("ftp", item.Owner);
    }

    [Theory]
    [InlineData("type=dir;modify=20240102030405; docs", FtpItemType.Directory)]
    [InlineData("type=OS.unix=slink:/etc; link", FtpItemType.Link)]
    [InlineData("type=cdir; .", FtpItemType.Directory)]
    public void MlsdTypes(string line, FtpItemType type)
        => Assert.Equal(type, ListingParser.ParseMlsd(line, "/")!.Type);

    [Fact]
    public void MlsdSelfAndParentAreRecognised()
    {
        Assert.True(ListingParser.IsSelfOrParent(ListingParser.ParseMlsd("type=cdir; /pub", "/")!));
        Assert.True(ListingParser.IsSelfOrParent(ListingParser.ParseMlsd("type=pdir; ..", "/")!));
        Assert.False(ListingParser.IsSelfOrParent(ListingParser.ParseMlsd("type=file; a", "/")!));
    }

    [Theory]
    [InlineData("nofacts")]
    [InlineData("type=file; ")]
    public void MalformedMlsdLinesAreNull(string line) => Assert.Null(ListingParser.ParseMlsd(line, "/"));

    [Fact]
    public void UnixLineWithTimeResolvesToThePastYear()
    {
        var item = ListingParser.ParseList("-rw-r--r--    1 1000     1000      3000001 Dec 01 12:01 up.bin", "/home/u", Now)!;
        Assert.Equal("up.bin", item.Name);
        Assert.Equal("/home/u/up.bin", item.FullName);
        Assert.Equal(3000001, item.Length);
        Assert.Equal(new DateTime(2025, 12, 1, 12, 1, 0, DateTimeKind.Utc), item.LastWriteTime); // Dec is in the future in Nov 2026
        Assert.Equal("rw-r--r--", item.Permissions);
        Assert.Equal("1000", item.Owner);
    }

    [Fact]
    public void UnixLineWithYearDirectoryAndSpacesInName()
    {
        var item = ListingParser.ParseList("drwxr-xr-x    2 ftp      ftp          4096 Mar  5  2019 My Documents", "/", Now)!;
        Assert.Equal(FtpItemType.Directory, item.Type);
        Assert.Equal("My Documents", item.Name);
        Assert.Equal("/My Documents", item.FullName);
        Assert.Equal(new DateTime(2019, 3, 5, 0, 0, 0, DateTimeKind.Utc), item.LastWriteTime);
    }

    [Fact]
    public void UnixSymlinkSplitsTarget()
    {
        var item = ListingParser.ParseList("lrwxrwxrwx    1 0        0               7 Jan 10 08:00 latest -> v1.2.3", "/pub", Now)!;
        Assert.Equal(FtpItemType.Link, item.Type);
        Assert.Equal("latest", item.Name);
        Assert.Equal("v1.2.3", item.LinkTarget);
    }

    [Fact]
    public void UnixLineWithoutGroup()
    {
        var item = ListingParser.ParseList("-rw-r--r-- 1 owner 12 Jan 10 08:00 small", "/", Now)!;
        Assert.Equal(12, item.Length);
        Assert.Equal("small", item.Name);
    }

    [Fact]
    public void DosLines()
    {
        var dir = ListingParser.ParseList("01-02-23  10:11AM       <DIR>          Reports 2023", "/", Now)!;
        Assert.Equal(FtpItemType.Directory, dir.Type);
        Assert.Equal("Reports 2023", dir.Name);
        Assert.Equal(new DateTime(2023, 1, 2, 10, 11, 0, DateTimeKind.Utc), dir.LastWriteTime);
        var file = ListingParser.ParseList("11-30-2024  09:05PM             12345 data.csv", "/x", Now)!;
        Assert.Equal(FtpItemType.File, file.Type);
        Assert.Equal(12345, file.Length);
        Assert.Equal("/x/data.csv", file.FullName);
        Assert.Equal(new DateTime(2024, 11, 30, 21, 5, 0, DateTimeKind.Utc), file.LastWriteTime);
    }

    [Theory]
    [InlineData("total 12")]
    [InlineData("")]
    [InlineData("this is not a listing line")]
    public void NonEntriesAreNull(string line) => Assert.Null(ListingParser.ParseList(line, "/", Now));
}
