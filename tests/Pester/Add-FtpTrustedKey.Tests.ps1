BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Add-FtpTrustedKey' {
    It 'records a fingerprint as an out-of-band key' {
        $key = Add-FtpTrustedKey -ComputerName Files.Example.Test -Fingerprint ('AB' * 32) -TrustStorePath TestDrive:/trust
        $key.Host | Should -Be 'files.example.test'
        $key.Source | Should -Be 'OutOfBand'
    }

    It 'changes nothing under -WhatIf' {
        Add-FtpTrustedKey -ComputerName other.example.test -Fingerprint ('CD' * 32) -TrustStorePath TestDrive:/trust -WhatIf
        Get-FtpTrustedKey -ComputerName other.example.test -TrustStorePath TestDrive:/trust | Should -BeNullOrEmpty
    }
}
