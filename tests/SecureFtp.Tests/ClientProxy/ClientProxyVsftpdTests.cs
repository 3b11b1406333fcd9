using SecureFtp.Tests.Infrastructure;
using Xunit;
using static SecureFtp.Tests.ClientProxy.LegacyThroughProxy;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>Issue 18: legacy clients through the client proxy to a real vsftpd over TLS with require_ssl_reuse=YES
/// (every data connection must resume the control connection's TLS session, or vsftpd refuses it with 522), by a
/// fixed upstream and by USER name@host:port.</summary>
public sealed class ClientProxyVsftpdTests(VsftpdFixture vsftpd) : IClassFixture<VsftpdFixture>, IDisposable
{
    private static readonly int[] Sizes = { 0, 1, 4 * 1024 * 1024 + 3 };
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-client-proxy-vsftpd-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private FtpClientOptions Upstream()
    {
        var options = vsftpd.ClientOptions(vsftpd.Host);
        options.Credential = null;
        options.Host = "";
        options.Port = 0;
        return options;
    }

    [SkippableTheory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Curl_through_the_proxy_to_vsftpd_over_TLS(bool fixedUpstream, bool active)
    {
        vsftpd.Require();
        await using var proxy = await RunningProxy.StartAsync(fixedUpstream ? $"{vsftpd.Host}:{vsftpd.Port}" : null, Upstream());
        string user = fixedUpstream ? vsftpd.User : $"{vsftpd.User}@{vsftpd.Host}:{vsftpd.Port}";
        string tag = $"{(fixedUpstream ? "fixed" : "routed")}-{(active ? "active" : "passive")}-{Guid.NewGuid():N}"[..24];
        // Issue 18's sizes: 0 B, 1 B and 32 MiB.
        foreach (int size in new[] { 0, 1, 32 * 1024 * 1024 })
        {
            string name = $"curl-{tag}-{size}.bin";
            string local = WriteRandomFile(_work, name, size);
            var up = await CurlUploadAsync(proxy.Port, user, vsftpd.Password, local, name, active);
            Assert.True(up.ExitCode == 0, $"upload {size} B: {up}\n{proxy.LogText}\n{vsftpd.ReadServerLog()}");
            Assert.Equal(Sha256Of(local), Sha256Of(vsftpd.LocalPath(name)));

            var served = vsftpd.CreateFile($"served-{tag}-{size}.bin", size);
            string back = Path.Combine(_work, "back-" + served.Name);
            var down = await CurlDownloadAsync(proxy.Port, user, vsftpd.Password, served.Name, back, active);
            Assert.True(down.ExitCode == 0, $"download {size} B: {down}\n{proxy.LogText}\n{vsftpd.ReadServerLog()}");
            Assert.Equal(served.Sha256, Sha256Of(back));
        }
        var list = await CurlListAsync(proxy.Port, user, vsftpd.Password, active: active);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains($"served-{tag}-1.bin", list.StandardOutput);
        string log = vsftpd.ReadServerLog();
        Assert.DoesNotContain("session reuse required", log);
        Assert.Contains("AUTH TLS", log);
        Assert.Contains("PROT P", log);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lftp_without_TLS_through_the_proxy_to_vsftpd(bool active)
    {
        vsftpd.Require();
        await using var proxy = await RunningProxy.StartAsync(null, Upstream());
        string user = $"{vsftpd.User}@{vsftpd.Host}:{vsftpd.Port}";
        string tag = Guid.NewGuid().ToString("N")[..8];
        var files = Sizes.Select(size => WriteRandomFile(_work, $"lftp-{tag}-{size}.bin", size)).ToList();
        string puts = string.Join("; ", files.Select(f => $"put {f} -o {Path.GetFileName(f)}"));
        string gets = string.Join("; ", files.Select(f => $"get {Path.GetFileName(f)} -o {Path.Combine(_work, "back-" + Path.GetFileName(f))}"));
        var result = await LftpAsync(proxy.Port, user, vsftpd.Password, $"{puts}; cls -l; {gets}", active);
        Assert.True(result.ExitCode == 0, $"{result}\n{proxy.LogText}\n{vsftpd.ReadServerLog()}");
        foreach (var f in files)
        {
            Assert.Equal(Sha256Of(f), Sha256Of(vsftpd.LocalPath(Path.GetFileName(f))));
            Assert.Equal(Sha256Of(f), Sha256Of(Path.Combine(_work, "back-" + Path.GetFileName(f))));
        }
        Assert.DoesNotContain("session reuse required", vsftpd.ReadServerLog());
    }

    [SkippableTheory]
    [InlineData("tnftp", false)]
    [InlineData("inetutils-ftp", true)]
    public async Task Bsd_style_ftp_clients_through_the_proxy_to_vsftpd(string client, bool active)
    {
        vsftpd.Require();
        await using var proxy = await RunningProxy.StartAsync($"{vsftpd.Host}:{vsftpd.Port}", Upstream());
        string tag = Guid.NewGuid().ToString("N")[..8];
        var files = Sizes.Select(size => WriteRandomFile(_work, $"{client}-{tag}-{size}.bin", size)).ToList();
        var commands = files.Select(f => $"put {f} {Path.GetFileName(f)}").Concat(new[] { "ls" })
            .Concat(files.Select(f => $"get {Path.GetFileName(f)} {Path.Combine(_work, "back-" + Path.GetFileName(f))}")).ToList();
        var result = client == "tnftp"
            ? await TnftpAsync(proxy.Port, vsftpd.User, vsftpd.Password, commands, active)
            : await InetutilsFtpAsync(proxy.Port, vsftpd.User, vsftpd.Password, commands, active);
        Assert.True(result.ExitCode == 0, $"{result}\n{proxy.LogText}");
        foreach (var f in files)
        {
            Assert.True(File.Exists(vsftpd.LocalPath(Path.GetFileName(f))), $"{result}\n{proxy.LogText}\n{vsftpd.ReadServerLog()}");
            Assert.Equal(Sha256Of(f), Sha256Of(vsftpd.LocalPath(Path.GetFileName(f))));
            Assert.Equal(Sha256Of(f), Sha256Of(Path.Combine(_work, "back-" + Path.GetFileName(f))));
        }
    }
}
