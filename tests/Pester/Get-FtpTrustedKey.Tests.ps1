BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Add-FtpTrustedKey -ComputerName a.example.test -Fingerprint ('AB' * 32) -TrustStorePath TestDrive:/trust | Out-Null
    Add-FtpTrustedKey -ComputerName b.example.test -Fingerprint ('CD' * 32) -TrustStorePath TestDrive:/trust | Out-Null
}

Describe 'Get-FtpTrustedKey' {
    It 'lists the store and filters by host with wildcards' {
        @(Get-FtpTrustedKey -TrustStorePath TestDrive:/trust).Count | Should -Be 2
        (Get-FtpTrustedKey -ComputerName 'a.*' -TrustStorePath TestDrive:/trust).Host | Should -Be 'a.example.test'
    }
}
