using SecureFtp.Server;
using SecureFtp.Tests.Client;
using SecureFtp.Tests.Infrastructure;
using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>Upstream mode, SafeTP's server proxy (seed 000 s.3.2), in front of a real plain vsftpd: legacy
/// clients use TLS to the proxy, the proxy speaks RFC 959 to vsftpd. This vsftpd announces a foreign PASV
/// address (192.0.2.7), so every transfer also proves the proxy does not follow a PASV address.</summary>
public sealed class ProxyVsftpdTests(PlainVsftpdFixture vsftpd) : IClassFixture<PlainVsftpdFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-proxy-").FullName;

    private Task<RunningServer> StartProxyAsync(Action<SecureFtpServerOptions>? configure = null)
    {
        vsftpd.Require();
        return RunningServer.StartProxyAsync($"127.0.0.1:{vsftpd.Port}", configure);
    }

    /// <summary>A file in a folder of the served root that the test login may write to.</summary>
    private ServedFile CreateFile(string relativePath, long length)
    {
        var file = vsftpd.CreateFile(relativePath, length);
        PeerUser.GiveOwnership(Path.GetDirectoryName(file.LocalPath)!);
        return file;
    }

    private static void Succeeded(ProcessResult result, RunningServer proxy)
        => Assert.True(result.ExitCode == 0, $"{result}\nproxy log:\n{proxy.LogText}");

    [SkippableTheory]
    [InlineData(ClientSecurity.ExplicitTls)]
    [InlineData(ClientSecurity.ImplicitTls)]
    public async Task CurlOverTlsThroughTheProxy(ClientSecurity security)
    {
        Peer.Require("curl");
        await using var proxy = await StartProxyAsync(o => o.ImplicitTlsPort = 0);
        int port = security == ClientSecurity.ImplicitTls ? proxy.Server.ImplicitTlsPort!.Value : proxy.Port;
        string name = $"curl-{security}.bin";
        var served = CreateFile("proxy/" + name, 2_500_000);
        string download = Path.Combine(_work, name);
        Succeeded(await LegacyClients.CurlDownloadAsync(security, port, "proxy/" + name, download, vsftpd.User, vsftpd.Password), proxy);
        Assert.Equal(served.Sha256, LegacyClients.Sha256Of(download));

        string upload = Path.Combine(_work, "up-" + name);
        File.WriteAllBytes(upload, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1_700_001));
        Succeeded(await LegacyClients.CurlUploadAsync(security, port, upload, "proxy/up-" + name, vsftpd.User, vsftpd.Password), proxy);
        Assert.Equal(LegacyClients.Sha256Of(upload), LegacyClients.Sha256Of(vsftpd.LocalPath("proxy/up-" + name)));

        var list = await LegacyClients.CurlListAsync(security, port, "proxy", user: vsftpd.User, password: vsftpd.Password);
        Succeeded(list, proxy);
        Assert.Contains(list.StandardOutput.Split('\n'), l => l.TrimEnd().EndsWith(" " + name, StringComparison.Ordinal) && l.Contains(" 2500000 "));
        // The client side was protected; vsftpd (plain) only ever saw cleartext from the proxy.
        Assert.Contains(proxy.Log, e => e.Message.Contains("TLS established"));
        Assert.DoesNotContain(vsftpd.LoggedCommands(), l => l.Contains("AUTH"));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LftpOverTlsThroughTheProxyPassiveAndActive(bool active)
    {
        Peer.Require("lftp");
        await using var proxy = await StartProxyAsync(o => o.RequireProtectedData = true);
        string dir = active ? "lftp-active" : "lftp-passive";
        var served = CreateFile($"{dir}/a.bin", 900_000);
        string download = Path.Combine(_work, dir + ".bin");
        string upload = Path.Combine(_work, dir + "-up.bin");
        File.WriteAllBytes(upload, System.Security.Cryptography.RandomNumberGenerator.GetBytes(600_000));
        var result = await LegacyClients.LftpAsync(ClientSecurity.ExplicitTls, proxy.Port,
            $"cd {dir}; get a.bin -o {download}; put {upload} -o b.bin; ls", vsftpd.User, vsftpd.Password, active);
        Succeeded(result, proxy);
        Assert.Equal(served.Sha256, LegacyClients.Sha256Of(download));
        Assert.Equal(LegacyClients.Sha256Of(upload), LegacyClients.Sha256Of(vsftpd.LocalPath($"{dir}/b.bin")));
        Assert.Contains("b.bin", result.StandardOutput);
        // Whatever the client used, the proxy reached vsftpd passively: vsftpd never connected out (no PORT).
        Assert.DoesNotContain(vsftpd.LoggedCommands(), l => l.Contains("PORT"));
        if (active) Assert.Contains(proxy.Log, e => e.Kind == SecureFtpServerLogKind.Command && (e.Message.StartsWith("PORT", StringComparison.Ordinal) || e.Message.StartsWith("EPRT", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public async Task PlainClientsAreRefusedOrAcceptedAsConfigured()
    {
        Peer.Require("curl");
        var served = CreateFile("plain/p.bin", 10_000);
        string download = Path.Combine(_work, "p.bin");
        string marker = "plainuser" + Guid.NewGuid().ToString("N")[..6];
        await using (var strict = await StartProxyAsync())
        {
            var refused = await LegacyClients.CurlDownloadAsync(ClientSecurity.None, strict.Port, "plain/p.bin", download, marker, vsftpd.Password);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("530", refused.StandardError);
            await Task.Delay(200); // let vsftpd flush its log
            // Seed 000 s.6.4: the refusal happens at the proxy; the ftpd never saw the user.
            Assert.DoesNotContain(vsftpd.LoggedCommands(), l => l.Contains(marker));
        }
        await using (var compatible = await StartProxyAsync(o => o.AllowInsecure = true))
        {
            // Seed 000 s.4.3: RFC 959 compatibility mode, plain all the way through.
            Succeeded(await LegacyClients.CurlDownloadAsync(ClientSecurity.None, compatible.Port, "plain/p.bin", download, vsftpd.User, vsftpd.Password), compatible);
            Assert.Equal(served.Sha256, LegacyClients.Sha256Of(download));
        }
    }

    [SkippableFact]
    public async Task UnknownCommandsAreRefusedWhileDataIsProtectedAndCccIsRefused()
    {
        await using var proxy = await StartProxyAsync();
        using var raw = await proxy.ConnectRawAsync();
        var greeting = await raw.ReadAsync();
        Assert220(greeting);
        Assert.Contains("vsFTPd", greeting.Message); // seed 000 s.4.3: the ftpd's own greeting is relayed
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        Expect(331, await raw.SendAsync("USER " + vsftpd.User));
        Expect(230, await raw.SendAsync("PASS " + vsftpd.Password));
        Expect(200, await raw.SendAsync("PBSZ 0"));
        Expect(200, await raw.SendAsync("PROT P"));
        // Seed 000 s.6.3: with data protection on, an unknown command is not forwarded.
        Expect(502, await raw.SendAsync("XQZW /"));
        // Seed 000 s.6.5.
        Expect(534, await raw.SendAsync("CCC"));
        Expect(200, await raw.SendAsync("PROT C"));
        // Data protection off: unknown commands pass to the ftpd, which answers for itself.
        var forwarded = await raw.SendAsync("XQZW /");
        Assert.Equal(500, forwarded.Code);
        var feat = Expect(211, await raw.SendAsync("FEAT"));
        Assert.Contains(feat.Lines, l => l.Trim() == "AUTH TLS;TLS-C;SSL;TLS-P");
        Assert.Contains(feat.Lines, l => l.Trim() == "SIZE"); // vsftpd's own features are kept
        Expect(221, await raw.SendAsync("QUIT"));
        await Task.Delay(200);
        var logged = vsftpd.LoggedCommands().ToList();
        Assert.Single(logged, l => l.Contains("XQZW"));
        Assert.DoesNotContain(logged, l => l.Contains("CCC") || l.Contains("PROT"));
    }

    [SkippableFact]
    public async Task ReinThroughTheProxyStartsAFreshSession()
    {
        await using var proxy = await StartProxyAsync();
        using var raw = await proxy.ConnectRawAsync();
        await raw.LoginOverTlsAsync(vsftpd.User, vsftpd.Password);
        Expect(257, await raw.SendAsync("PWD"));
        Expect(220, await raw.SendAsync("REIN"));
        await raw.StopTlsAsync();
        Expect(530, await raw.SendAsync("USER " + vsftpd.User));
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        Expect(331, await raw.SendAsync("USER " + vsftpd.User));
        Expect(230, await raw.SendAsync("PASS " + vsftpd.Password));
    }

    [SkippableFact]
    public async Task TheProxyLogsNoPassword()
    {
        Peer.Require("curl");
        CreateFile("log/l.bin", 100);
        await using var proxy = await StartProxyAsync();
        string download = Path.Combine(_work, "l.bin");
        Succeeded(await LegacyClients.CurlDownloadAsync(ClientSecurity.ExplicitTls, proxy.Port, "log/l.bin", download, vsftpd.User, vsftpd.Password), proxy);
        Assert.Contains(proxy.Log, e => e.Message.Contains("PASS ****"));
        Assert.DoesNotContain(vsftpd.Password, proxy.LogText);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
