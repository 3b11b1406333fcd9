BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Get-SecureFtpSession' {
    It 'returns nothing when no session is open' {
        Get-SecureFtpSession | Disconnect-SecureFtp
        Get-SecureFtpSession | Should -BeNullOrEmpty
    }

    It 'shows the agreed security in its list view' -Skip:(-not $HasServer) {
        $session = Connect-TestServer
        $text = Get-SecureFtpSession -Current | Format-List | Out-String
        $text | Should -Match 'Mechanism'
        $text | Should -Match 'PeerFingerprint'
        $session | Disconnect-SecureFtp
    }

    It 'finds sessions by host name with wildcards' -Skip:(-not $HasServer) {
        $session = Connect-TestServer
        (Get-SecureFtpSession -ComputerName "$($env:SECUREFTP_TEST_HOST.Substring(0, 3))*").Id | Should -Contain $session.Id
        $session | Disconnect-SecureFtp
    }
}
