using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.PowerShell;
using Xunit;
using static SecureFtp.Tests.ClientProxy.LegacyThroughProxy;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>Start-/Get-/Stop-SecureFtpClientProxy through the hosted engine: a proxy in front of the embedded server
/// (Start-SecureFtpServer), curl through it, the counters, -WhatIf, and the stop.</summary>
public sealed class ClientProxyCmdletTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-proxy-cmdlet-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SkippableFact]
    public async Task A_proxy_started_by_the_cmdlet_carries_curl_to_the_embedded_server_and_stops()
    {
        string served = Path.Combine(_root, "served");
        Directory.CreateDirectory(served);
        File.WriteAllText(Path.Combine(served, "hello.txt"), "through the client proxy");
        using var ps = new HostedPowerShell();
        var started = ps.Run("""
            $server = Start-SecureFtpServer -Root $served -Credential $credential
            $proxy = Start-SecureFtpClientProxy -Upstream "127.0.0.1:$($server.Port)" -Mechanism Tls -CertificateThumbprint $server.CertificateThumbprint
            $proxy.Port
            $proxy.Mode
            $proxy.ListenAddress.ToString()
            """, ("served", served), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        int port = int.Parse(started[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new[] { "Fixed", "127.0.0.1" }, started.Skip(1));

        string back = Path.Combine(_root, "back.txt");
        var curl = await CurlDownloadAsync(port, "demo", "demo-password", "hello.txt", back);
        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.Equal("through the client proxy", File.ReadAllText(back));

        var after = ps.Run("""
            $p = Get-SecureFtpClientProxy
            $p.TotalSessions
            $p.BytesDownloaded
            $p.TransfersCompleted
            $p | Stop-SecureFtpClientProxy -WhatIf
            $p.IsRunning
            $p | Stop-SecureFtpClientProxy
            $p.IsRunning
            @(Get-SecureFtpClientProxy).Count
            $server | Stop-SecureFtpServer
            """).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "1", "24", "1", "True", "False", "0" }, after);
    }

    [Fact]
    public void A_bad_upstream_is_a_terminating_error_naming_it()
    {
        using var ps = new HostedPowerShell();
        var result = ps.Run("Start-SecureFtpClientProxy -Upstream 'ftp.example.com:99999'");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UpstreamInvalid", error.FullyQualifiedErrorId);
        Assert.Contains("ftp.example.com:99999", error.ToString());
        Assert.Empty(ps.Run("Get-SecureFtpClientProxy").ThrowOnError().Output);
    }
}
