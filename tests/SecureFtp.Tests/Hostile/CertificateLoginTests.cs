using System.Text;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.Hostile;

/// <summary>RFC 4217 s.12.2 (and RFC 2228's 232 reply to USER): a server that logs the user in from the client
/// certificate answers USER with 232, and no password is asked or sent. A scripted server plays that part.</summary>
public sealed class CertificateLoginTests : IAsyncLifetime
{
    private readonly HostileFtpServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private void AnswerUserWith(string reply) => _server.Override = async (line, stream) =>
    {
        if (!line.StartsWith("USER ", StringComparison.Ordinal)) return false;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"));
        return true;
    };

    private ScriptResult Connect(HostedPowerShell ps, string login, params (string, object?)[] variables) =>
        ps.Run($"Connect-SecureFtp -ComputerName $hostName -Port $port {login} -Mechanism None -FallbackPolicy Allow -TimeoutSec 5 -Verbose",
            new[] { ("hostName", (object?)_server.Host), ("port", _server.Port) }.Concat(variables).ToArray());

    [Fact]
    public void UserName_alone_logs_in_when_the_server_answers_232()
    {
        AnswerUserWith("232 User logged in, authorized by security data exchange");
        using var ps = new HostedPowerShell();

        var result = Connect(ps, "-UserName alice").ThrowOnError();

        var session = Assert.Single(result.Output);
        Assert.Equal("alice", session.Properties["UserName"].Value);
        Assert.Equal(true, session.Properties["IsConnected"].Value);
        Assert.Contains("USER alice", _server.Commands);
        Assert.DoesNotContain(_server.Commands, c => c.StartsWith("PASS", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(result.Verbose, v => v.Contains("232", StringComparison.Ordinal));
        // The session works after such a login.
        Assert.Equal(257, ps.Run("(Invoke-FtpCommand PWD).Code").ThrowOnError().Single());
    }

    [Fact]
    public void A_232_to_USER_is_a_login_with_a_credential_too_and_the_password_stays_unsent()
    {
        AnswerUserWith("232 ok, certificate accepted");
        using var ps = new HostedPowerShell();

        Connect(ps, "-Credential $credential", ("credential", CmdletSessionTests.Credential("bob", "unsent-password"))).ThrowOnError();

        Assert.DoesNotContain(_server.Commands, c => c.StartsWith("PASS", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void UserName_alone_fails_with_PasswordRequired_and_sends_no_PASS_when_the_server_asks_for_one()
    {
        using var ps = new HostedPowerShell();   // the server answers USER with 331

        var result = Connect(ps, "-UserName alice");

        var error = Assert.Single(result.Errors);
        Assert.Equal("PasswordRequired,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand", error.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.DoesNotContain("-Credential", error.Exception.Message);           // the engine says what happened
        Assert.Contains("-Credential", error.ErrorDetails.Message);          // the cmdlet layer says what to do
        Assert.DoesNotContain(_server.Commands, c => c.StartsWith("PASS", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void UserName_and_Credential_cannot_be_given_together()
    {
        using var ps = new HostedPowerShell();

        var result = Connect(ps, "-UserName alice -Credential $credential", ("credential", CmdletSessionTests.Credential("bob", "pw")));

        Assert.Contains(result.ErrorIds, id => id.StartsWith("AmbiguousParameterSet", StringComparison.Ordinal));
        Assert.Equal(0, _server.Connections);
    }

    [Fact]
    public void ClientCertificate_with_UserName_logs_in_over_TLS_when_the_server_maps_the_certificate()
    {
        _server.TlsCertificate = TestCertificates.Current.Server;
        // The server answers 232 only to a client that presented a certificate in the handshake, as a mapping server does.
        _server.Override = async (line, stream) =>
        {
            if (!line.StartsWith("USER ", StringComparison.Ordinal)) return false;
            await stream.WriteAsync(Encoding.ASCII.GetBytes(_server.ClientCertificateSeen != null
                ? "232 User logged in, authorized by security data exchange\r\n" : "331 password please\r\n"));
            return true;
        };
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=alice", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension(
            new System.Security.Cryptography.OidCollection { new("1.3.6.1.5.5.7.3.2") }, false));   // TLS client authentication
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            made.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        using var ps = new HostedPowerShell();

        var result = ps.Run("Connect-SecureFtp -ComputerName $hostName -Port $port -Mechanism Tls -CertificateThumbprint $pin -ClientCertificate $certificate -UserName alice -DataProtection Clear -TimeoutSec 10",
            ("hostName", _server.Host), ("port", _server.Port), ("pin", TestCertificates.Current.ServerSha256), ("certificate", certificate)).ThrowOnError();

        Assert.Equal(certificate.GetCertHashString(), _server.ClientCertificateSeen);
        var session = Assert.Single(result.Output);
        Assert.Equal("alice", session.Properties["UserName"].Value);
        Assert.Equal("TLS", session.Properties["Mechanism"].Value);
        Assert.DoesNotContain(_server.Commands, c => c.StartsWith("PASS", StringComparison.OrdinalIgnoreCase));
    }
}
