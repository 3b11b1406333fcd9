using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Server;

/// <summary>The proxy in front of GNU inetutils ftpd, the classic plain daemon: curl uses TLS to the proxy.</summary>
public sealed class ProxyInetutilsTests(InetutilsFtpdFixture ftpd) : IClassFixture<InetutilsFtpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-proxy-inetutils-").FullName;

    [SkippableFact]
    public async Task CurlOverTlsThroughTheProxyToInetutilsFtpd()
    {
        ftpd.Require();
        Peer.Require("curl");
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{ftpd.Port}");
        var served = ftpd.CreateFile("served.bin", 1_300_000);
        // inetutils ftpd does not chroot: "%2F" makes curl start from "/" and walk to the served folder.
        string folder = "%2F" + ftpd.RootDirectory.Trim('/');
        string download = Path.Combine(_work, "served.bin");
        var get = await LegacyClients.CurlDownloadAsync(ClientSecurity.ExplicitTls, proxy.Port, folder + "/served.bin", download, ftpd.User, ftpd.Password);
        Assert.True(get.ExitCode == 0, $"{get}\nproxy log:\n{proxy.LogText}\nftpd:\n{ftpd.ReadServerLog()}");
        Assert.Equal(served.Sha256, LegacyClients.Sha256Of(download));

        string upload = Path.Combine(_work, "up.bin");
        File.WriteAllBytes(upload, System.Security.Cryptography.RandomNumberGenerator.GetBytes(800_003));
        var put = await LegacyClients.CurlUploadAsync(ClientSecurity.ExplicitTls, proxy.Port, upload, folder + "/up.bin", ftpd.User, ftpd.Password);
        Assert.True(put.ExitCode == 0, $"{put}\nproxy log:\n{proxy.LogText}");
        Assert.Equal(LegacyClients.Sha256Of(upload), LegacyClients.Sha256Of(ftpd.LocalPath("up.bin")));
        Assert.DoesNotContain(ftpd.Password, proxy.LogText);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
