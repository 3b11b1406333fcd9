BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Stop-SecureFtpServer' {
    It 'stops the server and forgets it' {
        $server = Start-SecureFtpServer -Root TestDrive:/
        Stop-SecureFtpServer -Server $server
        $server.IsRunning | Should -BeFalse
        Get-SecureFtpServer | Where-Object Id -eq $server.Id | Should -BeNullOrEmpty
    }

    It 'keeps the server under -WhatIf' {
        $server = Start-SecureFtpServer -Root TestDrive:/
        $server | Stop-SecureFtpServer -WhatIf
        $server.IsRunning | Should -BeTrue
        $server | Stop-SecureFtpServer
    }
}
