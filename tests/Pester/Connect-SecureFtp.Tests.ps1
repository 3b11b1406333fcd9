BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
}
AfterAll {
    Get-SecureFtpSession | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Connect-SecureFtp' {
    It 'opens a TLS session with PROT P that becomes current' {
        $session = Connect-TestServer $server
        $session.IsConnected | Should -BeTrue
        $session.Mechanism | Should -Be 'TLS'
        "$($session.DataProtection)" | Should -Be 'Private'
        $session.PeerFingerprint | Should -Not -BeNullOrEmpty
        (Get-SecureFtpSession -Current).Id | Should -Be $session.Id
        $session | Disconnect-SecureFtp
    }

    It 'takes the host name from the pipeline' {
        $session = '127.0.0.1' | Connect-SecureFtp -Port $server.Port -Credential $server.Credential -CertificateThumbprint $server.CertificateThumbprint
        $session.ComputerName | Should -Be '127.0.0.1'
        $session | Disconnect-SecureFtp
    }

    It 'takes ComputerName and Port from the pipeline by property name' {
        $session = [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $server.Port } |
            Connect-SecureFtp -Credential $server.Credential -CertificateThumbprint $server.CertificateThumbprint
        $session.Port | Should -Be $server.Port
        $session | Disconnect-SecureFtp
    }

    It 'reports a wrong password as LoginRefused (SecurityError) without echoing it' {
        $bad = New-TestCredential $server.Credential.UserName 'not-the-password'
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $bad -CertificateThumbprint $server.CertificateThumbprint -ErrorVariable failure -ErrorAction SilentlyContinue
        $session | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -Be 'LoginRefused,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        "$($failure[0])" | Should -Not -Match 'not-the-password'
    }

    It 'refuses a certificate that does not match the pin before sending the password' {
        $wrong = '00' * 32
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $server.Credential -CertificateThumbprint $wrong -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'CertificateRejected,*'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        ("$($failure[0])" -replace ':') | Should -Match $server.CertificateThumbprint
        Get-SecureFtpSession | Where-Object Port -eq $server.Port | Should -BeNullOrEmpty
    }

    It 'refuses a self-signed certificate that is neither pinned nor skipped' {
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $server.Credential -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'CertificateRejected,*'
    }

    It 'refuses to send a password in cleartext (-Mechanism None, FallbackPolicy Refuse)' {
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $server.Credential -Mechanism None -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
    }

    It 'reports a closed port as ConnectionError' {
        $closed = Get-FreeTcpPort
        Connect-SecureFtp -ComputerName 127.0.0.1 -Port $closed -Credential $server.Credential -TimeoutSec 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'validates the port range' {
        { Connect-SecureFtp -ComputerName 127.0.0.1 -Port 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand'
    }

    It 'completes mechanism names' {
        $result = TabExpansion2 -inputScript 'Connect-SecureFtp -Mechanism Impl' -cursorColumn 33
        $result.CompletionMatches.CompletionText | Should -Contain 'ImplicitTls'
    }
}
