BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Start-SecureFtpServer' {
    BeforeAll {
        $credential = [pscredential]::new('demo', (ConvertTo-SecureString 'demo-password' -AsPlainText -Force))
        Set-Content TestDrive:/served.txt 'served'
    }

    It 'serves a folder over TLS on loopback' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        $server.ListenAddress | Should -Be ([ipaddress]::Loopback)
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint
        $session.Mechanism | Should -Be 'TLS'
        (Get-FtpChildItem -Session $session).Name | Should -Contain 'served.txt'
        $session | Disconnect-SecureFtp
        $server | Stop-SecureFtpServer
    }

    It 'refuses a login before TLS unless -AllowInsecure' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism None -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $server | Stop-SecureFtpServer
    }
}
