using System.Diagnostics;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.Server;

/// <summary>Start-SecureFtpServer's limits, set from PowerShell and felt by a hostile client on a raw socket:
/// -MaxConnectionsPerAddress and -LoginTimeoutSec reach the server.</summary>
public sealed class ServerLimitCmdletTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-limits-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Limits_given_to_the_cmdlet_refuse_the_extra_connection_and_end_the_idle_one()
    {
        using var ps = new HostedPowerShell();
        var port = (int)ps.Run("""
            $server = Start-SecureFtpServer -Root $root -Credential $credential -MaxConnections 100 -MaxConnectionsPerAddress 2 -LoginTimeoutSec 2 -IdleTimeoutSec 60
            $server.Port
            """, ("root", _root), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Single().BaseObject;
        try
        {
            using var first = await HostileClient.ConnectAsync(port, "127.0.0.2");
            await first.ExpectAsync(220);
            var clock = Stopwatch.StartNew();
            using var second = await HostileClient.ConnectAsync(port, "127.0.0.2");
            await second.ExpectAsync(220);
            using (var third = await HostileClient.ConnectAsync(port, "127.0.0.2"))
                Assert.Contains("from your address (2 open)", (await third.ExpectAsync(421)).Message);
            Assert.Contains("Login timeout", (await first.ExpectAsync(421, TimeSpan.FromSeconds(10))).Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"the unauthenticated connection lasted {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            ps.Run("Get-SecureFtpServer | Stop-SecureFtpServer");
        }
    }
}
