BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Connect-SecureFtp' {
    It 'returns a session that becomes current' -Skip:(-not $HasServer) {
        $session = Connect-TestServer
        $session.IsConnected | Should -BeTrue
        (Get-SecureFtpSession -Current).Id | Should -Be $session.Id
        $session | Disconnect-SecureFtp
    }

    It 'reports a wrong password as LoginRefused (SecurityError)' -Skip:(-not $HasServer) {
        $bad = [pscredential]::new($env:SECUREFTP_TEST_USER, (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
        Connect-SecureFtp -ComputerName $env:SECUREFTP_TEST_HOST -Port ([int]($env:SECUREFTP_TEST_PORT ?? 21)) -Credential $bad `
            -Mechanism ($env:SECUREFTP_TEST_MECHANISM ?? 'Tls') -SkipCertificateCheck -ErrorVariable failure -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'LoginRefused,*'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        "$($failure[0])" | Should -Not -Match 'not-the-password'
    }

    It 'refuses an unreachable host with a ConnectionError or timeout and no session' {
        Connect-SecureFtp -ComputerName 127.0.0.1 -Port 1 -Mechanism None -TimeoutSec 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -BeIn @('ConnectionError', 'OperationTimeout')
    }

    It 'completes mechanism names' {
        $result = TabExpansion2 -inputScript 'Connect-SecureFtp -Mechanism Impl' -cursorColumn 33
        $result.CompletionMatches.CompletionText | Should -Contain 'ImplicitTls'
    }
}
