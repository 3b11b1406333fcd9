BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
}
AfterAll { & $server.Stop }

Describe 'Disconnect-SecureFtp' {
    BeforeEach { Get-SecureFtpSession | Disconnect-SecureFtp }

    It 'closes the current session and removes it from the list' {
        $session = Connect-TestServer $server
        Disconnect-SecureFtp
        $session.IsConnected | Should -BeFalse
        Get-SecureFtpSession | Should -BeNullOrEmpty
        Get-SecureFtpSession -Current | Should -BeNullOrEmpty
    }

    It 'closes every session piped to it' {
        $one = Connect-TestServer $server
        $two = Connect-TestServer $server
        @(Get-SecureFtpSession).Count | Should -Be 2
        Get-SecureFtpSession | Disconnect-SecureFtp
        $one.IsConnected, $two.IsConnected | Should -Be @($false, $false)
    }

    It 'reports NoSession (InvalidOperation) when nothing is connected' {
        Disconnect-SecureFtp -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'NoSession,SecureFtp.PowerShell.Commands.DisconnectSecureFtpCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }

    It 'leaves a closed session unusable: SessionClosed (ConnectionError)' {
        $session = Connect-TestServer $server
        $session | Disconnect-SecureFtp
        { Get-FtpChildItem -Session $session } | Should -Throw -ErrorId 'SessionClosed,SecureFtp.PowerShell.Commands.GetFtpChildItemCommand'
    }

    It 'closes a session the server already dropped without an error' {
        $other = Start-TestServer
        try {
            $session = Connect-TestServer $other
            & $other.Stop
            { $session | Disconnect-SecureFtp -ErrorAction Stop } | Should -Not -Throw
            Get-SecureFtpSession | Should -BeNullOrEmpty
        }
        finally { & $other.Stop }
    }
}
