using System.Net;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The engine says what happened; the cmdlet layer adds what a PowerShell user can do about it
/// (ErrorRecords maps error ids to hints that name the cmdlets' parameters).</summary>
public sealed class ErrorHintTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-hints-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_engine_refuses_a_fallback_without_naming_parameters()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.Mechanisms = new List<string> { "SSL" });
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
            MechanismNames = { "Tls" },
        };
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));
        Assert.Equal("SecurityNotAvailable", e.ErrorId);
        Assert.Contains("No credential was sent", e.Message);
        Assert.DoesNotContain("-FallbackPolicy", e.Message);
        Assert.DoesNotContain("-Mechanism", e.Message);
    }

    [Fact]
    public void The_cmdlet_adds_the_PowerShell_hint_to_the_engine_message()
    {
        using var ps = new HostedPowerShell();
        var lines = ps.Run("""
            $server = Start-SecureFtpServer -Root $root -Credential $credential -Mechanism SSL
            try {
                Connect-SecureFtp -ComputerName 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism Tls -ErrorVariable failed -ErrorAction SilentlyContinue
            } finally { $server | Stop-SecureFtpServer }
            $failed[0].FullyQualifiedErrorId.Split(',')[0]
            $failed[0].Exception.Message
            $failed[0].ErrorDetails.Message
            $failed[0].ErrorDetails.RecommendedAction
            """, ("root", _root), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal("SecurityNotAvailable", lines[0]);
        Assert.DoesNotContain("-FallbackPolicy", lines[1]);
        Assert.Equal(lines[1] + " " + lines[3], lines[2]);
        Assert.Contains("-FallbackPolicy Warn", lines[3]);
    }
}
