using System.Management.Automation;
using SecureFtp.Tests.Client;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Cmdlet behaviour that only a plain FTP server shows: the policy and protection errors.</summary>
public class PlainCmdletTests(PlainVsftpdFixture server) : IClassFixture<PlainVsftpdFixture>
{
    [SkippableFact]
    public void Refused_TLS_stops_before_login_with_a_SecurityError()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        var result = ps.Run("Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism Tls",
            ("hostName", server.Host), ("port", server.Port), ("credential", CmdletSessionTests.Credential(server.User, server.Password)));
        Assert.Empty(result.Output);
        var error = Assert.Single(result.Errors);
        Assert.Equal("SecurityNotAvailable,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
    }

    [SkippableFact]
    public void Warn_policy_writes_a_warning_and_connects_in_cleartext()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        var result = ps.Run("(Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism Tls -FallbackPolicy Warn).Mechanism",
            ("hostName", server.Host), ("port", server.Port), ("credential", CmdletSessionTests.Credential(server.User, server.Password))).ThrowOnError();
        Assert.Equal("None", result.Single());
        Assert.NotEmpty(result.Warnings);
    }

    [SkippableFact]
    public void Private_protection_without_a_mechanism_is_a_SecurityError()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        ps.Run("$null = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism None",
            ("hostName", server.Host), ("port", server.Port), ("credential", CmdletSessionTests.Credential(server.User, server.Password))).ThrowOnError();
        var result = ps.Run("Set-FtpProtection -Level Private");
        Assert.Equal(ErrorCategory.SecurityError, Assert.Single(result.Errors).CategoryInfo.Category);
    }
}
