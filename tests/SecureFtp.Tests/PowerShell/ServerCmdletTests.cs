using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Start-/Get-/Stop-SecureFtpServer through the hosted engine, with the module's own client as the peer
/// (the server side has its own interop tests against curl and lftp).</summary>
public sealed class ServerCmdletTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secureftp-served-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Embedded_server_serves_a_folder_over_TLS_and_stops()
    {
        File.WriteAllText(Path.Combine(_root, "served.txt"), "from the embedded server");
        using var ps = new HostedPowerShell();
        var lines = ps.Run("""
            $server = Start-SecureFtpServer -Root $root -Credential $credential
            $server.ListenAddress.ToString()
            $server.IsRunning
            $session = Connect-SecureFtp -ComputerName 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint
            $session.Mechanism
            (Get-FtpChildItem -Session $session).Name
            Receive-FtpFile -Session $session -Path served.txt -Destination ([System.IO.Path]::Combine($root, 'back.txt'))
            Disconnect-SecureFtp -Session $session
            @(Get-SecureFtpServer).Count
            $server | Stop-SecureFtpServer
            $server.IsRunning
            @(Get-SecureFtpServer).Count
            """, ("root", _root), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "127.0.0.1", "True", "TLS", "served.txt", "1", "False", "0" }, lines);
        Assert.Equal("from the embedded server", File.ReadAllText(Path.Combine(_root, "back.txt")));
    }

    [Fact]
    public void Both_cmdlets_take_either_name_of_a_mechanism_and_complete_the_same_names()
    {
        using var ps = new HostedPowerShell();
        var lines = ps.Run("""
            $server = Start-SecureFtpServer -Root $root -Credential $credential -Mechanism Tls, TLS-P
            try {
                (Connect-SecureFtp -ComputerName 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint -Mechanism TLS-C).Mechanism
                (Connect-SecureFtp -ComputerName 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint -Mechanism Ssl).Mechanism
                Get-SecureFtpSession | Disconnect-SecureFtp
            } finally { $server | Stop-SecureFtpServer }
            """, ("root", _root), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "TLS", "SSL" }, lines);

        foreach (var command in new[] { "Connect-SecureFtp", "Start-SecureFtpServer" })
        {
            var kea = Complete(ps, $"{command} -Mechanism kea");
            Assert.Contains("KEA-SKIPJACK", kea);
            Assert.Contains("KeaSkipjack", kea);
            Assert.Contains("X-SafeTP1", Complete(ps, $"{command} -Mechanism X-"));
        }
        Assert.Contains("None", Complete(ps, "Connect-SecureFtp -Mechanism No"));
        Assert.DoesNotContain("None", Complete(ps, "Start-SecureFtpServer -Mechanism No"));

        var unknown = ps.Run("Connect-SecureFtp -ComputerName 127.0.0.1 -Port 1 -Mechanism GSSAPI");
        Assert.Contains(unknown.ErrorIds, id => id.StartsWith("MechanismUnknown", StringComparison.Ordinal));
        var unknownServer = ps.Run("Start-SecureFtpServer -Root $root -Mechanism GSSAPI", ("root", _root));
        Assert.Contains(unknownServer.ErrorIds, id => id.StartsWith("MechanismUnknown", StringComparison.Ordinal));
    }

    private static List<string> Complete(HostedPowerShell ps, string input)
        => ps.Run("(TabExpansion2 -inputScript $inputScript -cursorColumn $inputScript.Length).CompletionMatches.CompletionText", ("inputScript", input))
            .ThrowOnError().Output.Where(o => o != null).Select(o => o.ToString().Trim('\'')).ToList();

    [Fact]
    public void SafeTp_session_to_the_embedded_server_trusts_on_first_use_and_then_from_the_store()
    {
        string keys = Directory.CreateDirectory(Path.Combine(_root, "..", Path.GetFileName(_root) + "-keys")).FullName;
        try
        {
            using var ps = new HostedPowerShell();
            var lines = ps.Run("""
                $serverKey = New-SecureFtpKey -Type Server -Path ([System.IO.Path]::Combine($keys, 'server.key')) -Brand 'Embedded test' -Bits 1024
                $clientKey = New-SecureFtpKey -Type Client -Path ([System.IO.Path]::Combine($keys, 'client.key')) -Bits 1024
                $store = [System.IO.Path]::Combine($keys, 'store')
                $server = Start-SecureFtpServer -Root $root -Credential $credential -SafeTpKeyPath $serverKey.Path
                $common = @{ ComputerName = '127.0.0.1'; Port = $server.Port; Credential = $credential; Mechanism = 'SafeTp'; ClientKeyPath = $clientKey.Path }
                $first = Connect-SecureFtp @common -TrustStorePath $store -AcceptKey
                $first.Mechanism
                $first.TrustSource
                $first.PeerFingerprint -eq $serverKey.Fingerprint
                $first | Disconnect-SecureFtp
                (Connect-SecureFtp @common -TrustStorePath $store -ErrorOnUntrusted).TrustSource
                Connect-SecureFtp @common -TrustStorePath ([System.IO.Path]::Combine($keys, 'empty-store')) -ErrorOnUntrusted -ErrorVariable refused -ErrorAction SilentlyContinue
                $refused[0].CategoryInfo.Category.ToString()
                Get-SecureFtpSession | Disconnect-SecureFtp
                $server | Stop-SecureFtpServer
                """, ("root", _root), ("keys", keys), ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
            Assert.Equal(new[] { "X-SafeTP1", "FirstUse", "True", "TrustStore", "SecurityError" }, lines);
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }
}
