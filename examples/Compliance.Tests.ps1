#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
.SYNOPSIS
    A compliance check of an FTP server's security, in Pester 5, over Test-SecureFtpServer.

.DESCRIPTION
    Test-SecureFtpServer probes without changing anything on the server. With -Credential it also logs in
    (inside TLS only, and only to a server whose certificate validates or is pinned) to see whether PROT P is
    required; the password is never sent in cleartext.

.EXAMPLE
    $container = New-PesterContainer -Path ./Compliance.Tests.ps1 -Data @{
        ComputerName = 'ftp.example.com'; Credential = Get-Credential }
    Invoke-Pester -Container $container -Output Detailed

.EXAMPLE
    $container = New-PesterContainer -Path ./Compliance.Tests.ps1 -Data @{
        ComputerName = 'ftp.internal'; Credential = Get-Credential; CertificatePinned = $true
        CertificateThumbprint = 'AB12...' }
    Invoke-Pester -Container $container -Output Detailed

    A site whose certificate is pinned rather than issued by a public CA (build.ps1 -Task Test runs it this way
    against the embedded server and vsftpd).
#>
param(
    [Parameter(Mandatory)] [string] $ComputerName,
    [int] $Port = 21,
    [pscredential] $Credential,
    # The certificate must stay valid for at least this many days.
    [int] $MinimumCertificateDays = 30,
    # The site pins its certificate instead of having it issued by a trusted CA: skip the chain check.
    [switch] $CertificatePinned,
    # The pinned certificate's SHA-256 fingerprint: with -Credential, the probe logs in only to a server whose
    # certificate validates or matches this pin.
    [string[]] $CertificateThumbprint
)

BeforeAll {
    $probe = @{ ComputerName = $ComputerName; Port = $Port }
    if ($Credential) { $probe.Credential = $Credential }
    if ($CertificateThumbprint) { $probe.CertificateThumbprint = $CertificateThumbprint }
    $server = Test-SecureFtpServer @probe
}

Describe "FTP security of ${ComputerName}:$Port" {
    It 'offers TLS' {
        $server.TlsOffered | Should -BeTrue
    }

    It 'refuses a login in cleartext' {
        $server.CleartextLoginRefused | Should -BeTrue -Because $server.CleartextLoginReply
    }

    It 'requires PROT P (protected data connections)' -Skip:(-not $Credential) {
        $server.ProtPRequired | Should -BeTrue -Because $server.ClearDataReply
    }

    It 'refuses TLS 1.0 and TLS 1.1' {
        # $false = refused; $true = accepted; $null = could not be determined, which is not a pass.
        $legacy = @($server.TlsVersions | Where-Object Version -In 'Tls10', 'Tls11')
        $legacy.Count | Should -Be 2
        foreach ($version in $legacy) {
            $version.Accepted | Should -Be $false -Because "$($version.Version): $($version.Detail)"
        }
    }

    # A site either has a certificate a CA vouches for, or pins one: each gets the check that applies to it.
    if ($CertificatePinned) {
        It 'presents the pinned certificate' -Skip:(-not $CertificateThumbprint) {
            $pins = $CertificateThumbprint -replace '[^0-9A-Fa-f]'
            ($server.Certificate.Sha256Fingerprint -replace '[^0-9A-Fa-f]') | Should -BeIn $pins
        }
    }
    else {
        It 'has a certificate that validates (chain and host name)' {
            $server.Certificate.IsValid | Should -BeTrue -Because $server.Certificate.ValidationErrors
        }
    }

    It "has a certificate valid for more than $MinimumCertificateDays days" {
        $server.Certificate | Should -Not -BeNullOrEmpty
        $server.Certificate.DaysUntilExpiry | Should -BeGreaterThan $MinimumCertificateDays
    }
}
