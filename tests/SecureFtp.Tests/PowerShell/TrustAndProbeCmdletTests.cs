using System.Management.Automation;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The trust store cmdlets on a store in a temp folder, and Test-SecureFtpServer against vsftpd.</summary>
public sealed class TrustAndProbeCmdletTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>, IDisposable
{
    private readonly string _store = Directory.CreateTempSubdirectory("secureftp-trust-").FullName;

    public void Dispose() => Directory.Delete(_store, recursive: true);

    [Fact]
    public void Keys_are_added_listed_completed_and_removed()
    {
        string fingerprint = string.Join(":", Enumerable.Range(0, 32).Select(i => (i * 7 % 256).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        using var ps = new HostedPowerShell();
        var result = ps.Run("""
            $added = Add-FtpTrustedKey -ComputerName Files.Example.Test -Fingerprint $fingerprint -TrustStorePath $store
            $added.Host
            $added.Source
            @(Get-FtpTrustedKey -ComputerName 'files.*' -TrustStorePath $store).Count
            Remove-FtpTrustedKey -ComputerName files.example.test -TrustStorePath $store -WhatIf
            @(Get-FtpTrustedKey -TrustStorePath $store).Count
            Get-FtpTrustedKey -TrustStorePath $store | Remove-FtpTrustedKey -TrustStorePath $store
            @(Get-FtpTrustedKey -TrustStorePath $store).Count
            """, ("fingerprint", fingerprint), ("store", _store)).ThrowOnError();
        Assert.Equal(new object[] { "files.example.test", "OutOfBand", 1, 1, 0 }, result.Output.Select(o => o.BaseObject));

        var missing = ps.Run("Remove-FtpTrustedKey -ComputerName nowhere.test -TrustStorePath $store", ("store", _store));
        Assert.Equal("TrustedKeyNotFound,SecureFtp.PowerShell.Commands.RemoveFtpTrustedKeyCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_new_server_key_exported_and_added_to_the_store_keeps_its_fingerprint()
    {
        using var ps = new HostedPowerShell();
        var facts = ps.Run("""
            $key = New-SecureFtpKey -Type Server -Path ([System.IO.Path]::Combine($store, 'server.key')) -Brand 'Test Brand' -Bits 1024
            $key.Fingerprint
            (Add-FtpTrustedKey -ComputerName keyed.example.test -Path $key.PublicKeyPath -KeyType X-SafeTP1 -TrustStorePath $store).Fingerprint
            (Get-FtpTrustedKey -ComputerName keyed.example.test -TrustStorePath $store).Brand
            """, ("store", _store)).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(facts[0], facts[1]);
        Assert.Equal("Test Brand", facts[2]);

        var again = ps.Run("New-SecureFtpKey -Type Server -Path ([System.IO.Path]::Combine($store, 'server.key'))", ("store", _store));
        Assert.Equal(ErrorCategory.ResourceExists, Assert.Single(again.Errors).CategoryInfo.Category);
    }

    [Fact]
    public void Host_names_complete_from_the_trust_store_and_mechanisms_from_the_enum()
    {
        string fingerprint = string.Concat(Enumerable.Repeat("AB", 32));
        using var ps = new HostedPowerShell();
        ps.Run("$null = Add-FtpTrustedKey -ComputerName completion.example.test -Fingerprint $fingerprint -TrustStorePath $store", ("fingerprint", fingerprint), ("store", _store)).ThrowOnError();
        var hosts = Complete(ps, $"Connect-SecureFtp -TrustStorePath '{_store}' -ComputerName compl");
        Assert.Contains("completion.example.test", hosts);
        Assert.Contains("ImplicitTls", Complete(ps, "Connect-SecureFtp -Mechanism Impl"));
        Assert.Contains("Private", Complete(ps, "Set-FtpProtection -Level Pri"));
    }

    [SkippableFact]
    public void Remote_paths_complete_from_the_current_session()
    {
        server.Require();
        server.CreateFile("complete-me/inner.txt", 1);
        PeerUser.GiveOwnership(server.LocalPath("complete-me"));
        using var ps = new HostedPowerShell();
        ps.Run("$null = Connect-SecureFtp -ComputerName $h -Port $p -Credential $c -Mechanism Tls -CertificateThumbprint $t",
            ("h", server.Host), ("p", server.Port), ("c", CmdletSessionTests.Credential(server.User, server.Password)), ("t", server.CertificateThumbprint)).ThrowOnError();
        Assert.Contains("/complete-me/", Complete(ps, "Receive-FtpFile -Path /complete-"));
        Assert.Contains("/complete-me/inner.txt", Complete(ps, "Receive-FtpFile -Path /complete-me/in"));
    }

    [SkippableFact]
    public void Test_SecureFtpServer_reports_TLS_and_the_certificate()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        var facts = ps.Run("""
            $probe = Test-SecureFtpServer -ComputerName $h -Port $p -SkipCipherSuites -CertificateThumbprint $t
            @($probe.Mechanisms | Where-Object { $_.Offered } | ForEach-Object Name) -join ','
            $probe.Certificate.Sha256Fingerprint -replace ':', ''
            """, ("h", server.Host), ("p", server.Port), ("t", server.CertificateThumbprint)).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Contains("TLS", facts[0].Split(','));
        Assert.Equal(server.CertificateThumbprint, facts[1], ignoreCase: true);
    }

    private static List<string> Complete(HostedPowerShell ps, string input)
        => ps.Run("(TabExpansion2 -inputScript $inputScript -cursorColumn $inputScript.Length).CompletionMatches.CompletionText", ("inputScript", input))
            .ThrowOnError().Output.Select(o => o.ToString().Trim('\'')).ToList();
}
