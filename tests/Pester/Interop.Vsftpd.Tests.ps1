# The cmdlets against Debian's vsftpd (tests/peers/install.sh), configured strictly: TLS required for the login,
# PROT P required, and require_ssl_reuse=YES (every data connection must resume the control connection's TLS session).
# Without vsftpd these tests are skipped with the reason; under CI=true the Pester runner counts a skip as a failure.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $skip = -not (Test-VsftpdAvailable)
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if (Test-VsftpdAvailable) {
        $server = Start-TestServer -Vsftpd -RequireProtectedData
        $served = New-ServedFile $server 'served/data.bin' 300000
    }
}
AfterAll {
    Get-SecureFtpSession | Disconnect-SecureFtp
    if ($server) { & $server.Stop }
}

Describe 'vsftpd (require_ssl_reuse=YES, PROT P required)' -Skip:$skip {
    It 'connects by IP literal with TLS and downloads over a resumed TLS session' {
        $session = Connect-TestServer $server
        $session.Mechanism | Should -Be 'TLS'
        Receive-FtpFile /served/data.bin TestDrive:/by-ip.bin
        (Get-FileHash TestDrive:/by-ip.bin).Hash | Should -Be (Get-FileHash $served).Hash
        $session | Disconnect-SecureFtp
    }

    It 'connects by host name and lists, uploads and removes' {
        $session = Connect-SecureFtp localhost -Port $server.Port -Credential $server.Credential -CertificateThumbprint $server.CertificateThumbprint
        (Get-FtpChildItem /served).Name | Should -Be 'data.bin'
        $local = New-TestFile TestDrive:/up.bin 100000
        Send-FtpFile $local /up.bin
        (Get-FileHash (Join-Path $server.Root 'up.bin')).Hash | Should -Be (Get-FileHash $local).Hash
        Remove-FtpItem /up.bin
        Test-FtpPath /up.bin | Should -BeFalse
        $session | Disconnect-SecureFtp
    }

    It 'keeps two sessions to one server apart' {
        $one = Connect-TestServer $server
        $two = Connect-TestServer $server
        Get-FtpChildItem -Session $one /served | Receive-FtpFile -Destination TestDrive:/one
        Get-FtpChildItem -Session $two /served | Receive-FtpFile -Destination TestDrive:/two
        (Get-FileHash TestDrive:/one/data.bin).Hash | Should -Be (Get-FileHash TestDrive:/two/data.bin).Hash
        $one, $two | Disconnect-SecureFtp
    }

    It 'refuses a download at PROT C (force_local_data_ssl): SecurityPolicyNotMet (SecurityError), no file' {
        $session = Connect-TestServer $server
        Set-FtpProtection -Level Clear
        Receive-FtpFile /served/data.bin TestDrive:/clear.bin -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'SecurityPolicyNotMet,SecureFtp.PowerShell.Commands.ReceiveFtpFileCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        Get-ChildItem TestDrive:/ -Filter 'clear.bin*' | Should -BeNullOrEmpty
        $session | Disconnect-SecureFtp
    }

    It 'reports a wrong password as LoginRefused' {
        $bad = New-TestCredential $server.Credential.UserName 'wrong-password'
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $bad -CertificateThumbprint $server.CertificateThumbprint -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'LoginRefused,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand'
    }

    It 'hashes a file as Get-FileHash does' {
        $session = Connect-TestServer $server
        (Get-FtpFileHash /served/data.bin).Hash | Should -Be (Get-FileHash $served).Hash
        $session | Disconnect-SecureFtp
    }
}
