using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>The embedded server's modification times (issue 14, server side): MFMT (draft-somers-ftp-mfxx) sets them,
/// and MLST/MLSD report them as the "modify" fact (RFC 3659 s.7.5.3), as a client that keeps times needs.</summary>
public class ModifyTimeTests
{
    [Fact]
    public async Task MFMT_sets_the_time_that_MDTM_and_MLST_then_report()
    {
        await using var server = await RunningServer.StartRootAsync();
        server.CreateFile("dated.bin", 1000);
        using var raw = await server.ConnectRawAsync();
        await raw.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
        var feat = Expect(211, await raw.SendAsync("FEAT"));
        Assert.Contains(feat.Lines, l => l.Trim() == "MFMT");

        var set = Expect(213, await raw.SendAsync("MFMT 20190704123456 dated.bin"));
        Assert.StartsWith("Modify=20190704123456", set.Message);
        Assert.Equal(new DateTime(2019, 7, 4, 12, 34, 56, DateTimeKind.Utc), File.GetLastWriteTimeUtc(server.LocalPath("dated.bin")));
        Assert.Equal("20190704123456", Expect(213, await raw.SendAsync("MDTM dated.bin")).Message);
        var mlst = Expect(250, await raw.SendAsync("MLST dated.bin"));
        Assert.Contains(mlst.Lines, l => l.Contains("modify=20190704123456;") && l.TrimEnd().EndsWith("/dated.bin", StringComparison.Ordinal));

        Expect(501, await raw.SendAsync("MFMT yesterday dated.bin"));
        Expect(501, await raw.SendAsync("MFMT 20190704123456"));
        Expect(550, await raw.SendAsync("MFMT 20190704123456 missing.bin"));
    }

    [Fact]
    public async Task Anonymous_users_cannot_change_times()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowAnonymous = true);
        server.CreateFile("public.bin", 10);
        var before = File.GetLastWriteTimeUtc(server.LocalPath("public.bin"));
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(331, await raw.SendAsync("USER anonymous"));
        Expect(230, await raw.SendAsync("PASS guest@example.org"));
        Expect(550, await raw.SendAsync("MFMT 20000101000000 public.bin"));
        Assert.Equal(before, File.GetLastWriteTimeUtc(server.LocalPath("public.bin")));
    }
}
