BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Add-FtpTrustedKey -ComputerName a.example.test -Fingerprint ('AB' * 32) -TrustStorePath TestDrive:/trust | Out-Null
}

Describe 'Remove-FtpTrustedKey' {
    It 'keeps the key under -WhatIf and removes it from the pipeline' {
        Remove-FtpTrustedKey -ComputerName a.example.test -TrustStorePath TestDrive:/trust -WhatIf
        @(Get-FtpTrustedKey -TrustStorePath TestDrive:/trust).Count | Should -Be 1
        Get-FtpTrustedKey -TrustStorePath TestDrive:/trust | Remove-FtpTrustedKey -TrustStorePath TestDrive:/trust
        Get-FtpTrustedKey -TrustStorePath TestDrive:/trust | Should -BeNullOrEmpty
    }

    It 'reports a host with no key' {
        Remove-FtpTrustedKey -ComputerName nowhere.test -TrustStorePath TestDrive:/trust -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'TrustedKeyNotFound,*'
    }
}
