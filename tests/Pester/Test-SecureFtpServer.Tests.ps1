BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Test-SecureFtpServer' {
    It 'reports TLS and the certificate of the embedded server' {
        $server = Start-SecureFtpServer -Root TestDrive:/
        $probe = Test-SecureFtpServer -ComputerName 127.0.0.1 -Port $server.Port -SkipCipherSuites -CertificateThumbprint $server.CertificateThumbprint
        ($probe.Mechanisms | Where-Object Offered).Name | Should -Contain 'TLS'
        ($probe.Certificate.Sha256Fingerprint -replace ':') | Should -Be $server.CertificateThumbprint
    }

    It 'reports an unreachable server as an error' {
        Test-SecureFtpServer -ComputerName 127.0.0.1 -Port 1 -TimeoutSec 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -BeGreaterThan 0
    }
}
