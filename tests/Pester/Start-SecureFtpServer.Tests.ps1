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

    It 'offers TLS, X-SafeTP1 and KEA-SKIPJACK together' {
        $serverKey = New-SecureFtpKey -Type SafeTpServer -Path TestDrive:/keys/server.key -Bits 1024
        $kea = New-SecureFtpKey -Type Kea -Path TestDrive:/keys/server.pem -Brand 'CN=ftp.test'
        $alice = New-SecureFtpKey -Type Kea -Path TestDrive:/keys/alice.pem -Brand alice
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential -ServerKey $serverKey.Path -KeaCredential $kea.Path -KeaUserMap @{ 'CN=alice' = 'demo' } -Mechanism TLS, X-SafeTP1, KEA-SKIPJACK
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism KeaSkipjack -KeaCredential $alice.Path
        $session.Mechanism | Should -Be 'KEA-SKIPJACK'
        (Get-FtpChildItem -Session $session).Name | Should -Contain 'served.txt'
        $session | Disconnect-SecureFtp
        $server | Stop-SecureFtpServer
    }
}
