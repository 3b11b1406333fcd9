BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Add-FtpTrustedKey' {
    AfterEach { Get-SecureFtpSession | Disconnect-SecureFtp }

    It 'records a fingerprint as an out-of-band key' {
        $key = Add-FtpTrustedKey -ComputerName Files.Example.Test -Fingerprint ('AB' * 32) -TrustStorePath TestDrive:/trust
        $key.Host | Should -Be 'files.example.test'
        $key.Source | Should -Be 'OutOfBand'
        (Get-FtpTrustedKey files.example.test -TrustStorePath TestDrive:/trust).Fingerprint | Should -Be $key.Fingerprint
    }

    It 'records a SafeTP server key file, so the first connection needs no trust decision' {
        $serverKey = New-SecureFtpKey -Type SafeTpServer -Path TestDrive:/keys/server.key -Bits 1024 -Brand 'Pester site'
        $key = Add-FtpTrustedKey -ComputerName 127.0.0.1 -Path $serverKey.PublicKeyPath -KeyType X-SafeTP1 -TrustStorePath TestDrive:/trust-safetp
        $key.Fingerprint | Should -Be $serverKey.Fingerprint
        $credential = New-TestCredential
        $server = Start-SecureFtpServer -Root $TestDrive -Credential $credential -ServerKey $serverKey.Path -Mechanism X-SafeTP1
        try {
            # -ErrorOnUntrusted: an unknown key would be an error, so success proves the added key was used.
            $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism SafeTp -ErrorOnUntrusted `
                -TrustStorePath TestDrive:/trust-safetp -ClientKey TestDrive:/keys/client.key
            $session.Mechanism | Should -Be 'X-SafeTP1'
            $session.TrustSource | Should -Be 'TrustStore'
        }
        finally { $server | Stop-SecureFtpServer }
    }

    It 'pins a TLS certificate file: the host is then trusted without -CertificateThumbprint' {
        $tls = New-SecureFtpKey -Type TlsCertificate -Path TestDrive:/tls.pem -Brand localhost
        Add-FtpTrustedKey -ComputerName 127.0.0.1 -Path $tls.Path -TrustStorePath TestDrive:/trust-tls | Out-Null
        $credential = New-TestCredential
        $server = Start-SecureFtpServer -Root $TestDrive -Credential $credential -Certificate $tls.Path
        try {
            $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism Tls -TrustStorePath TestDrive:/trust-tls
            $session.IsConnected | Should -BeTrue
            $session.TrustSource | Should -Be 'TrustStore'
        }
        finally { $server | Stop-SecureFtpServer }
    }

    It 'feeds Remove-FtpTrustedKey through the pipeline' {
        Add-FtpTrustedKey -ComputerName piped.example.test -Fingerprint ('EF' * 32) -TrustStorePath TestDrive:/trust-pipe | Remove-FtpTrustedKey -TrustStorePath TestDrive:/trust-pipe
        Get-FtpTrustedKey -TrustStorePath TestDrive:/trust-pipe | Should -BeNullOrEmpty
    }

    It 'changes nothing under -WhatIf' {
        Add-FtpTrustedKey -ComputerName other.example.test -Fingerprint ('CD' * 32) -TrustStorePath TestDrive:/trust -WhatIf
        Get-FtpTrustedKey -ComputerName other.example.test -TrustStorePath TestDrive:/trust | Should -BeNullOrEmpty
    }

    It 'refuses a fingerprint that is not one: InvalidFingerprint (SecurityError), store unchanged' {
        Add-FtpTrustedKey -ComputerName bad.example.test -Fingerprint 'not-hex' -TrustStorePath TestDrive:/trust -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'InvalidFingerprint,SecureFtp.PowerShell.Commands.AddFtpTrustedKeyCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        Get-FtpTrustedKey bad.example.test -TrustStorePath TestDrive:/trust | Should -BeNullOrEmpty
    }

    It 'reports a missing key file as KeyFileUnreadable, naming the file' {
        Add-FtpTrustedKey -ComputerName x.example.test -Path TestDrive:/no-such.pub -KeyType X-SafeTP1 -TrustStorePath TestDrive:/trust -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'KeyFileUnreadable,SecureFtp.PowerShell.Commands.AddFtpTrustedKeyCommand'
        "$($failure[0])" | Should -Match 'no-such\.pub'
        Get-FtpTrustedKey x.example.test -TrustStorePath TestDrive:/trust | Should -BeNullOrEmpty
    }

    It 'refuses a PEM file whose body is not base64: InvalidKeyFile (SecurityError)' {
        Set-Content TestDrive:/garbage.pem "-----BEGIN PUBLIC KEY-----`n%%% not base64 %%%`n-----END PUBLIC KEY-----"
        Add-FtpTrustedKey -ComputerName x.example.test -Path TestDrive:/garbage.pem -TrustStorePath TestDrive:/trust -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'InvalidKeyFile,SecureFtp.PowerShell.Commands.AddFtpTrustedKeyCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
    }
}
