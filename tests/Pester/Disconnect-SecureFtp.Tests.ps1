BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Disconnect-SecureFtp' {
    It 'closes the session and removes it from the list' -Skip:(-not $HasServer) {
        $session = Connect-TestServer
        Disconnect-SecureFtp -Session $session
        $session.IsConnected | Should -BeFalse
        Get-SecureFtpSession | Where-Object Id -eq $session.Id | Should -BeNullOrEmpty
    }

    It 'closes every session from the pipeline' -Skip:(-not $HasServer) {
        Connect-TestServer | Out-Null
        Connect-TestServer | Out-Null
        Get-SecureFtpSession | Disconnect-SecureFtp
        Get-SecureFtpSession | Should -BeNullOrEmpty
    }
}
