BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'New-SecureFtpKey' {
    It 'makes a server key whose exported public half keeps its fingerprint in the trust store' {
        $key = New-SecureFtpKey -Type Server -Path TestDrive:/server.key -Brand 'Test Brand' -Bits 1024
        Test-Path $key.PublicKeyPath | Should -BeTrue
        (Add-FtpTrustedKey -ComputerName keyed.example.test -Path $key.PublicKeyPath -KeyType X-SafeTP1 -TrustStorePath TestDrive:/trust).Fingerprint | Should -Be $key.Fingerprint
    }

    It 'does not replace a key without -Force' {
        New-SecureFtpKey -Type Client -Path TestDrive:/client.key -Bits 1024 | Out-Null
        New-SecureFtpKey -Type Client -Path TestDrive:/client.key -Bits 1024 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
    }
}
