BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer }
}
AfterAll { if ($HasServer) { $session | Disconnect-SecureFtp } }

Describe 'Set-FtpProtection' -Skip:(-not $HasServer) {
    It 'switches between Clear and Private' {
        (Set-FtpProtection -Level Clear -PassThru).DataProtection | Should -Be 'Clear'
        (Set-FtpProtection -Level Private -PassThru).DataProtection | Should -Be 'Private'
    }

    It 'changes nothing under -WhatIf' {
        Set-FtpProtection -Level Clear -WhatIf
        (Get-SecureFtpSession -Current).DataProtection | Should -Be 'Private'
    }
}
