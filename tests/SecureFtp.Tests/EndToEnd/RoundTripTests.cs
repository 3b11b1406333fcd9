using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.Server;
using SecureFtp.Tests.Client;
using Xunit;
// The one ProxyInetutilsTests runs (systemd-socket-activate, the daemon's default authentication).

namespace SecureFtp.Tests.EndToEnd;

/// <summary>The public client against the project's server, with the mechanism a user picks: over the proxy in front of
/// the real GNU inetutils ftpd, and over the embedded server (issue 5: KEA-SKIPJACK with 0 B, 1 B and 16 MiB; issue 4:
/// X-SafeTP1, also in front of a real plain vsftpd). Each session logs in, makes a folder, uploads, lists and
/// downloads, with every file's SHA-256 compared.</summary>
public sealed class KeaRoundTripTests(InetutilsFtpdFixture ftpd) : IClassFixture<InetutilsFtpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-e2e-kea-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [SkippableFact]
    public async Task KeaClientThroughTheProxyToInetutilsFtpd()
    {
        ftpd.Require();
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{ftpd.Port}", o => EndToEndKit.WithKea(o, ftpd.User));
        var options = EndToEndKit.ClientOptions(FtpMechanism.KeaSkipjack, proxy.Port, ftpd.User, ftpd.Password);
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("KEA-SKIPJACK", client.Security.Mechanism);

        string folder = "kea-" + Guid.NewGuid().ToString("N")[..8];
        await EndToEndKit.RoundTripAsync(client, ftpd.RemotePath(folder), ftpd.LocalPath(folder), _work, EndToEndKit.IssueSizes);
        await client.DisconnectAsync();
        Assert.DoesNotContain(ftpd.Password, proxy.LogText);
    }

    [Fact]
    public async Task KeaClientToTheEmbeddedServer()
    {
        await using var server = await RunningServer.StartRootAsync(o => EndToEndKit.WithKea(o, RunningServer.UserName));
        var options = EndToEndKit.ClientOptions(FtpMechanism.KeaSkipjack, server.Port, RunningServer.UserName, RunningServer.Password);
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("KEA-SKIPJACK", client.Security.Mechanism);

        await EndToEndKit.RoundTripAsync(client, "kea", server.LocalPath("kea"), _work, EndToEndKit.IssueSizes);
        await client.DisconnectAsync();
        Assert.Contains(server.Log, e => e.Message.Contains("KEA-SKIPJACK"));
    }
}

public sealed class SafeTpRoundTripTests(InetutilsFtpdFixture inetutils, PlainVsftpdFixture vsftpd)
    : IClassFixture<InetutilsFtpdFixture>, IClassFixture<PlainVsftpdFixture>, IDisposable
{
    /// <summary>Issue 4 names no sizes: the edge cases and one file of many protected buffers.</summary>
    private static readonly int[] Sizes = { 0, 1, 3 * 1024 * 1024 + 7 };

    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-e2e-safetp-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task ThroughTheProxyAsync(FtpServerFixture ftpd)
    {
        ftpd.Require();
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{ftpd.Port}", o => EndToEndKit.WithSafeTp(o));
        var options = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, proxy.Port, ftpd.User, ftpd.Password);
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("X-SafeTP1", client.Security.Mechanism);

        string folder = "safetp-" + Guid.NewGuid().ToString("N")[..8];
        await EndToEndKit.RoundTripAsync(client, ftpd.RemotePath(folder), ftpd.LocalPath(folder), _work, Sizes);
        await client.DisconnectAsync();
        Assert.DoesNotContain(ftpd.Password, proxy.LogText);
    }

    [SkippableFact]
    public Task SafeTpClientThroughTheProxyToInetutilsFtpd() => ThroughTheProxyAsync(inetutils);

    [SkippableFact]
    public async Task SafeTpClientThroughTheProxyToVsftpd()
    {
        await ThroughTheProxyAsync(vsftpd);
        // vsftpd (plain) only ever saw cleartext RFC 959 from the proxy.
        Assert.DoesNotContain(vsftpd.LoggedCommands(), l => l.Contains("AUTH") || l.Contains("ADAT"));
    }

    [Fact]
    public async Task SafeTpClientToTheEmbeddedServer()
    {
        await using var server = await RunningServer.StartRootAsync(o => EndToEndKit.WithSafeTp(o));
        var options = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, server.Port, RunningServer.UserName, RunningServer.Password);
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("X-SafeTP1", client.Security.Mechanism);

        await EndToEndKit.RoundTripAsync(client, "safetp", server.LocalPath("safetp"), _work, Sizes);
        await client.DisconnectAsync();
    }
}
