BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'New-SecureFtpKey' {
    It 'makes a server key whose exported public half keeps its fingerprint in the trust store' {
        $key = New-SecureFtpKey -Type Server -Path TestDrive:/server.key -Brand 'Test Brand' -Bits 1024
        Test-Path $key.PublicKeyPath | Should -BeTrue
        (Add-FtpTrustedKey -ComputerName keyed.example.test -Path $key.PublicKeyPath -KeyType X-SafeTP1 -TrustStorePath TestDrive:/trust).Fingerprint | Should -Be $key.Fingerprint
    }

    It 'accepts the issue names SafeTpServer and SafeTpClient' {
        (New-SecureFtpKey -Type SafeTpServer -Path TestDrive:/named-server.key -Bits 1024).Type | Should -Be 'SafeTpServer'
        (New-SecureFtpKey -Type SafeTpClient -Path TestDrive:/named-client.key -Bits 1024).Type | Should -Be 'SafeTpClient'
    }

    It 'issues KEA credentials from one site CA made beside them' {
        $server = New-SecureFtpKey -Type Kea -Path TestDrive:/kea/server.pem -Brand 'CN=ftp.test'
        $alice = New-SecureFtpKey -Type Kea -Path TestDrive:/kea/alice.pem -Brand alice
        $alice.Brand | Should -Be 'CN=alice'
        $alice.CertificateAuthorityPath | Should -Be $server.CertificateAuthorityPath
        Test-Path $server.IssuerCertificatePath | Should -BeTrue
        Get-Content -Raw $alice.PublicKeyPath | Should -Not -Match 'PRIVATE KEY'
    }

    It 'writes a TLS certificate that Start-SecureFtpServer serves' {
        $tls = New-SecureFtpKey -Type TlsCertificate -Path TestDrive:/tls.pem
        $server = Start-SecureFtpServer -Root TestDrive:/ -Certificate $tls.Path
        $server.CertificateThumbprint | Should -Be ($tls.Fingerprint -replace ':', '')
        $server | Stop-SecureFtpServer
    }

    It 'writes nothing under -WhatIf' {
        New-SecureFtpKey -Type TlsCertificate -Path TestDrive:/whatif.pem -WhatIf
        Test-Path TestDrive:/whatif.pem | Should -BeFalse
    }

    It 'does not replace a key without -Force: KeyFileExists (ResourceExists), old key kept' {
        New-SecureFtpKey -Type Client -Path TestDrive:/client.key -Bits 1024 | Out-Null
        $before = Get-FileHash TestDrive:/client.key
        New-SecureFtpKey -Type Client -Path TestDrive:/client.key -Bits 1024 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'KeyFileExists,SecureFtp.PowerShell.Commands.NewSecureFtpKeyCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        (Get-FileHash TestDrive:/client.key).Hash | Should -Be $before.Hash
        New-SecureFtpKey -Type Client -Path TestDrive:/client.key -Bits 1024 -Force | Out-Null
        (Get-FileHash TestDrive:/client.key).Hash | Should -Not -Be $before.Hash
    }

    It 'refuses -Bits for a KEA key or a TLS certificate' {
        { New-SecureFtpKey -Type TlsCertificate -Path TestDrive:/bits.pem -Bits 2048 } | Should -Throw -ErrorId 'Argument,SecureFtp.PowerShell.Commands.NewSecureFtpKeyCommand'
        Test-Path TestDrive:/bits.pem | Should -BeFalse
    }

    It 'needs -Path for every key but the SafeTP client key' {
        { New-SecureFtpKey -Type Kea } | Should -Throw -ErrorId 'Argument,SecureFtp.PowerShell.Commands.NewSecureFtpKeyCommand'
    }

    It 'refuses a key size it does not make' {
        { New-SecureFtpKey -Type Server -Path TestDrive:/small.key -Bits 512 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.NewSecureFtpKeyCommand'
    }
}
