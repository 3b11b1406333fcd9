BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer }
}
AfterAll { if ($HasServer) { $session | Disconnect-SecureFtp } }

Describe 'Invoke-FtpCommand' -Skip:(-not $HasServer) {
    It 'returns the reply' {
        (Invoke-FtpCommand -Command NOOP).Code | Should -Be 200
    }

    It 'returns a negative reply as output, not as an error' {
        (Invoke-FtpCommand -Command 'XNOSUCHCOMMAND').Code | Should -BeGreaterOrEqual 500
    }

    It 'takes commands from the pipeline' {
        ('NOOP', 'SYST' | Invoke-FtpCommand).Count | Should -Be 2
    }
}
