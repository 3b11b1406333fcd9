using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Start-SecureFtpServer -RequireSecure (issue 6, RFC 4217 s.10.1): a client that asks for clear data is
/// refused with an error that names the policy, and the module's own cleartext fallback is refused at USER.</summary>
public sealed class RequireSecureCmdletTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-require-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void RequireSecure_refuses_clear_data_and_cleartext_logins()
    {
        using var ps = new HostedPowerShell();
        var lines = ps.Run("""
            $server = Start-SecureFtpServer -Root $root -Credential $credential -RequireSecure
            $common = @{ ComputerName = '127.0.0.1'; Port = $server.Port; Credential = $credential; CertificateThumbprint = $server.CertificateThumbprint }
            Connect-SecureFtp @common -DataProtection Clear -ErrorVariable clear -ErrorAction SilentlyContinue
            $clear[0].FullyQualifiedErrorId.Split(',')[0]
            Connect-SecureFtp @common -Mechanism None -ErrorVariable plain -ErrorAction SilentlyContinue
            $plain[0].CategoryInfo.Category.ToString()
            (Connect-SecureFtp @common).DataProtection.ToString()
            Get-SecureFtpSession | Disconnect-SecureFtp
            $server | Stop-SecureFtpServer
            """, ("root", _root), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "DataProtectionRefused", "SecurityError", "Private" }, lines);
    }
}
