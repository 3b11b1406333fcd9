BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer -RequireProtectedData
}
AfterAll { & $server.Stop }

Describe 'Test-SecureFtpServer' {
    It 'reports TLS, the certificate and the refused cleartext login of the embedded server' {
        $probe = Test-SecureFtpServer -ComputerName 127.0.0.1 -Port $server.Port -SkipCipherSuites -CertificateThumbprint $server.CertificateThumbprint
        $probe.TlsOffered | Should -BeTrue
        ($probe.Mechanisms | Where-Object Offered).Name | Should -Contain 'TLS'
        ($probe.Certificate.Sha256Fingerprint -replace ':') | Should -Be $server.CertificateThumbprint
        $probe.CleartextLoginRefused | Should -BeTrue
    }

    It 'logs in over TLS with -Credential to see that PROT P is required' {
        $probe = Test-SecureFtpServer 127.0.0.1 -Port $server.Port -SkipCipherSuites -CertificateThumbprint $server.CertificateThumbprint -Credential $server.Credential
        $probe.ProtPRequired | Should -BeTrue
    }

    It 'takes ComputerName and Port from the pipeline by property name' {
        $probe = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $server.Port } | Test-SecureFtpServer -SkipCipherSuites
        $probe.TlsOffered | Should -BeTrue
    }

    It 'refuses TLS 1.0 and 1.1 and accepts 1.2 and 1.3' {
        $probe = Test-SecureFtpServer 127.0.0.1 -Port $server.Port -SkipCipherSuites
        ($probe.TlsVersions | Where-Object Accepted).Version | Should -Be @('Tls12', 'Tls13')
    }

    It 'reports an unreachable server as a ConnectionError' {
        Test-SecureFtpServer -ComputerName 127.0.0.1 -Port (Get-FreeTcpPort) -TimeoutSec 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -BeGreaterThan 0
        $failure[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $failure[0].FullyQualifiedErrorId | Should -BeLike '*,SecureFtp.PowerShell.Commands.TestSecureFtpServerCommand'
    }
}
