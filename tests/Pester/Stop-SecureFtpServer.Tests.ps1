BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $credential = New-TestCredential
}
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Stop-SecureFtpServer' {
    It 'stops listening and removes the server from the list' {
        $server = Start-SecureFtpServer -Root $TestDrive -Credential $credential
        $server | Stop-SecureFtpServer
        $server.IsRunning | Should -BeFalse
        Get-SecureFtpServer -Id $server.Id | Should -BeNullOrEmpty
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -TimeoutSec 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'closes the sessions the server was serving' {
        $server = Start-SecureFtpServer -Root $TestDrive -Credential $credential
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint
        Stop-SecureFtpServer -Server $server
        Get-FtpChildItem -Session $session -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -BeGreaterThan 0
        $session | Disconnect-SecureFtp -ErrorAction SilentlyContinue
    }

    It 'stops every server piped to it' {
        $one = Start-SecureFtpServer -Root $TestDrive -Credential $credential
        $two = Start-SecureFtpServer -Root $TestDrive -Credential $credential
        $one, $two | Stop-SecureFtpServer
        $one.IsRunning, $two.IsRunning | Should -Be @($false, $false)
    }

    It 'leaves the server running under -WhatIf' {
        $server = Start-SecureFtpServer -Root $TestDrive -Credential $credential
        $server | Stop-SecureFtpServer -WhatIf
        $server.IsRunning | Should -BeTrue
        $server | Stop-SecureFtpServer
    }

    It 'stops all servers of the runspace without arguments' {
        Start-SecureFtpServer -Root $TestDrive -Credential $credential | Out-Null
        Start-SecureFtpServer -Root $TestDrive -Credential $credential | Out-Null
        Stop-SecureFtpServer
        Get-SecureFtpServer | Should -BeNullOrEmpty
    }

    It 'refuses an argument that is not a server' {
        { Stop-SecureFtpServer -Server 'ftp://127.0.0.1:21' } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,SecureFtp.PowerShell.Commands.StopSecureFtpServerCommand'
    }
}
