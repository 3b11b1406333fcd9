using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureFtp.Security.Kea;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Issue 4's and 5's cmdlet surface through the hosted engine: New-SecureFtpKey for every -Type, and
/// Start-SecureFtpServer offering TLS, X-SafeTP1 and KEA-SKIPJACK at once with Connect-SecureFtp round trips over each.</summary>
public sealed class KeyAndMechanismCmdletTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-keys-").FullName;
    private string Root => Directory.CreateDirectory(Path.Combine(_work, "served")).FullName;
    private string Keys => Directory.CreateDirectory(Path.Combine(_work, "keys")).FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void New_SecureFtpKey_makes_SafeTp_keys_under_the_issue_names_and_the_earlier_ones()
    {
        using var ps = new HostedPowerShell();
        var keys = ps.Run("""
            New-SecureFtpKey -Type SafeTpServer -Path ([IO.Path]::Combine($keys, 'server.key')) -Brand 'Issue four' -Bits 1024
            New-SecureFtpKey -Type SafeTpClient -Path ([IO.Path]::Combine($keys, 'client.key')) -Bits 1024
            New-SecureFtpKey -Type Server -Path ([IO.Path]::Combine($keys, 'old-server.key')) -Bits 1024
            """, ("keys", Keys)).ThrowOnError().Output.Select(o => (dynamic)o).ToList();
        Assert.Equal(new[] { "SafeTpServer", "SafeTpClient", "SafeTpServer" }, keys.Select(k => (string)k.Type));
        Assert.Equal("Issue four", (string)keys[0].Brand);
        // The exported public half carries the same key the fingerprint names.
        var exported = TrustedKeyFile.Read((string)keys[0].PublicKeyPath, "127.0.0.1", 21, "X-SafeTP1");
        Assert.Equal((string)keys[0].Fingerprint, exported.Fingerprint);
        AssertOwnerOnly((string)keys[0].Path);
        AssertOwnerOnly((string)keys[1].Path);
    }

    [Fact]
    public void New_SecureFtpKey_Kea_issues_credentials_from_one_site_CA_beside_the_path_or_from_a_named_one()
    {
        using var ps = new HostedPowerShell();
        var keys = ps.Run("""
            New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'server.pem')) -Brand 'CN=ftp.test'
            New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'alice.pem')) -Brand alice
            New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'bob.pem')) -Brand bob -CertificateAuthority ([IO.Path]::Combine($keys, 'other', 'ca.pem'))
            """, ("keys", Keys)).ThrowOnError().Output.Select(o => (dynamic)o).ToList();
        Assert.All(keys, k => Assert.Equal("Kea", (string)k.Type));
        var server = KeaCredential.Load((string)keys[0].Path);
        var alice = KeaCredential.Load((string)keys[1].Path);
        var bob = KeaCredential.Load((string)keys[2].Path);
        Assert.Equal("CN=ftp.test", server.Subject);
        Assert.Equal("CN=alice", alice.Subject);
        Assert.Equal((string)keys[0].Fingerprint, server.Fingerprint);

        // Server and alice share the CA made beside them; bob's CA is the one he named.
        Assert.Equal(Path.Combine(Keys, "kea-ca.pem"), (string)keys[0].CertificateAuthorityPath);
        Assert.Equal((string)keys[0].CertificateAuthorityPath, (string)keys[1].CertificateAuthorityPath);
        var siteCa = KeaIssuer.Load((string)keys[0].IssuerCertificatePath);
        Assert.Equal(siteCa.Fingerprint, server.Issuer!.Fingerprint);
        Assert.Equal(siteCa.Fingerprint, alice.Issuer!.Fingerprint);
        Assert.Equal(Path.Combine(Keys, "other", "ca.pem"), (string)keys[2].CertificateAuthorityPath);
        Assert.NotEqual(siteCa.Fingerprint, bob.Issuer!.Fingerprint);
        Assert.Equal(bob.Issuer.Fingerprint, KeaIssuer.Load((string)keys[2].IssuerCertificatePath).Fingerprint);

        // The public certificate file holds the certificate alone, not the private value.
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText((string)keys[1].PublicKeyPath));
        AssertOwnerOnly((string)keys[1].Path);
        AssertOwnerOnly((string)keys[0].CertificateAuthorityPath);
    }

    [Fact]
    public void New_SecureFtpKey_TlsCertificate_writes_PFX_or_PEM_with_the_key()
    {
        using var ps = new HostedPowerShell();
        var keys = ps.Run("""
            New-SecureFtpKey -Type TlsCertificate -Path ([IO.Path]::Combine($keys, 'tls.pfx'))
            New-SecureFtpKey -Type TlsCertificate -Path ([IO.Path]::Combine($keys, 'tls.pem')) -Brand ftp.test
            """, ("keys", Keys)).ThrowOnError().Output.Select(o => (dynamic)o).ToList();
        using var pfx = X509CertificateLoader.LoadPkcs12FromFile((string)keys[0].Path, null);
        using var pem = X509Certificate2.CreateFromPemFile((string)keys[1].Path);
        Assert.True(pfx.HasPrivateKey);
        Assert.True(pem.HasPrivateKey);
        Assert.Equal("CN=localhost", pfx.Subject);
        Assert.Equal("CN=ftp.test", pem.Subject);
        Assert.Equal(KeyFingerprint.Compute(pfx.RawData), (string)keys[0].Fingerprint);
        Assert.Equal(KeyFingerprint.Compute(pem.RawData), (string)keys[1].Fingerprint);
        AssertOwnerOnly((string)keys[0].Path);
        AssertOwnerOnly((string)keys[1].Path);
    }

    [Fact]
    public void New_SecureFtpKey_refuses_Bits_for_KEA_and_TLS_and_needs_a_path_for_them()
    {
        using var ps = new HostedPowerShell();
        var bits = ps.Run("New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'k.pem')) -Bits 2048", ("keys", Keys));
        Assert.Contains(bits.ErrorIds, id => id.Contains("Argument", StringComparison.Ordinal));
        var noPath = ps.Run("New-SecureFtpKey -Type TlsCertificate");
        Assert.Contains(noPath.ErrorIds, id => id.Contains("Argument", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(Keys, "k.pem")));
    }

    [Fact]
    public void One_server_offers_TLS_SafeTp_and_KEA_and_each_round_trips_a_file_through_the_cmdlets()
    {
        byte[] payload = RandomNumberGenerator.GetBytes(200_000);
        string local = Path.Combine(_work, "payload.bin");
        File.WriteAllBytes(local, payload);
        using var ps = new HostedPowerShell();
        var lines = ps.Run("""
            $tls = New-SecureFtpKey -Type TlsCertificate -Path ([IO.Path]::Combine($keys, 'tls.pem'))
            $safeTp = New-SecureFtpKey -Type SafeTpServer -Path ([IO.Path]::Combine($keys, 'server.key')) -Brand 'Three mechanisms' -Bits 1024
            $client = New-SecureFtpKey -Type SafeTpClient -Path ([IO.Path]::Combine($keys, 'client.key')) -Bits 1024
            $kea = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'server.pem')) -Brand 'CN=ftp.test'
            $alice = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'alice.pem')) -Brand alice
            $server = Start-SecureFtpServer -Root $root -Credential $credential -Certificate $tls.Path -ServerKey $safeTp.Path `
                -KeaCredential $kea.Path -KeaUserMap @{ 'CN=alice' = 'demo' } -Mechanism TLS, X-SafeTP1, KEA-SKIPJACK
            $server.CertificateThumbprint -eq ($tls.Fingerprint -replace ':', '')
            $store = [IO.Path]::Combine($keys, 'store')
            $common = @{ ComputerName = '127.0.0.1'; Port = $server.Port; Credential = $credential }
            $sessions = @(
                Connect-SecureFtp @common -Mechanism Tls -CertificateThumbprint $tls.Fingerprint
                Connect-SecureFtp @common -Mechanism SafeTp -ClientKey $client.Path -TrustStorePath $store -AcceptKey
                Connect-SecureFtp @common -Mechanism KeaSkipjack -KeaCredential $alice.Path
            )
            foreach ($session in $sessions) {
                $session.Mechanism
                $name = "up-$($session.Mechanism).bin"
                Send-FtpFile -Session $session -Path $local -Destination $name
                Receive-FtpFile -Session $session -Path $name -Destination ([IO.Path]::Combine($back, $name))
                $session | Disconnect-SecureFtp
            }
            $server | Stop-SecureFtpServer
            """, ("keys", Keys), ("root", Root), ("local", local), ("back", Directory.CreateDirectory(Path.Combine(_work, "back")).FullName),
            ("credential", CmdletSessionTests.Credential("demo", "demo-password"))).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "True", "TLS", "X-SafeTP1", "KEA-SKIPJACK" }, lines);
        foreach (var mechanism in new[] { "TLS", "X-SafeTP1", "KEA-SKIPJACK" })
        {
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(File.ReadAllBytes(Path.Combine(Root, $"up-{mechanism}.bin"))));
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(File.ReadAllBytes(Path.Combine(_work, "back", $"up-{mechanism}.bin"))));
        }
    }

    [Fact]
    public void KEA_logins_follow_the_user_map_and_other_CAs_need_KeaIssuer()
    {
        using var ps = new HostedPowerShell();
        var result = ps.Run("""
            $kea = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'server.pem')) -Brand 'CN=ftp.test'
            $alice = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'alice.pem')) -Brand alice
            $mallory = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'mallory.pem')) -Brand mallory
            $bob = New-SecureFtpKey -Type Kea -Path ([IO.Path]::Combine($keys, 'bob.pem')) -Brand bob -CertificateAuthority ([IO.Path]::Combine($keys, 'partner', 'ca.pem'))
            $map = @{ 'CN=alice' = 'demo'; 'CN=bob' = @('demo', 'other') }
            $store = [IO.Path]::Combine($keys, 'store')
            $common = @{ ComputerName = '127.0.0.1'; Credential = $credential; Mechanism = 'KeaSkipjack'; ErrorAction = 'SilentlyContinue' }

            $server = Start-SecureFtpServer -Root $root -Credential $credential -KeaCredential $kea.Path -KeaUserMap $map
            (Connect-SecureFtp @common -Port $server.Port -KeaCredential $alice.Path).Mechanism
            Get-SecureFtpSession | Disconnect-SecureFtp
            $null = Connect-SecureFtp @common -Port $server.Port -KeaCredential $mallory.Path -ErrorVariable unmapped
            $unmapped | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }
            $null = Connect-SecureFtp @common -Port $server.Port -KeaCredential $bob.Path -TrustStorePath $store -AcceptKey -ErrorVariable foreign
            $foreign | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0]; $_.Exception.Message.Contains($bob.Fingerprint) }
            $server | Stop-SecureFtpServer

            $server = Start-SecureFtpServer -Root $root -Credential $credential -KeaCredential $kea.Path -KeaUserMap $map -KeaIssuer $bob.IssuerCertificatePath
            (Connect-SecureFtp @common -Port $server.Port -KeaCredential $bob.Path -TrustStorePath $store -AcceptKey -ErrorVariable accepted).Mechanism
            $accepted | ForEach-Object { "$_" }
            Get-SecureFtpSession | Disconnect-SecureFtp
            $server | Stop-SecureFtpServer
            """, ("keys", Keys), ("root", Root), ("credential", CmdletSessionTests.Credential("demo", "demo-password")));
        var lines = result.Output.Select(o => o?.ToString() ?? "(nothing)").ToList();
        // alice is mapped; mallory (same CA) is not, so the login is refused; bob's CA is unknown until -KeaIssuer names it,
        // and the refusal names his certificate. Any other error shows up as an extra line.
        Assert.Equal(new[] { "KEA-SKIPJACK", "LoginRefused", "AdatRejected", "True", "KEA-SKIPJACK" }, lines);
    }

    [Fact]
    public void Start_SecureFtpServer_takes_the_certificate_as_a_PFX_path_or_an_object_and_refuses_unconfigured_mechanisms()
    {
        using var ps = new HostedPowerShell();
        string pfxPath = Path.Combine(Keys, "tls.pfx");
        var fingerprint = ps.Run("(New-SecureFtpKey -Type TlsCertificate -Path $path).Fingerprint -replace ':', ''", ("path", pfxPath)).ThrowOnError().Single();
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
        var thumbprints = ps.Run("""
            foreach ($given in @($path, $certificate)) {
                $server = Start-SecureFtpServer -Root $root -Certificate $given -Mechanism Tls
                $server.CertificateThumbprint
                $server | Stop-SecureFtpServer
            }
            """, ("path", pfxPath), ("certificate", certificate), ("root", Root)).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { fingerprint, fingerprint }, thumbprints);

        var missingKey = ps.Run("Start-SecureFtpServer -Root $root -Mechanism TLS, KEA-SKIPJACK", ("root", Root));
        Assert.Contains(missingKey.ErrorIds, id => id.StartsWith("MechanismUnknown", StringComparison.Ordinal));
        var orphanMap = ps.Run("Start-SecureFtpServer -Root $root -KeaUserMap @{ alice = 'demo' }", ("root", Root));
        Assert.Contains(orphanMap.ErrorIds, id => id.Contains("Argument", StringComparison.Ordinal));
        var badFile = ps.Run("Start-SecureFtpServer -Root $root -Certificate ([IO.Path]::Combine($keys, 'missing.pfx'))", ("root", Root), ("keys", Keys));
        Assert.Contains(badFile.ErrorIds, id => id.StartsWith("ParameterArgumentTransformationError", StringComparison.Ordinal));
    }

    private static void AssertOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
