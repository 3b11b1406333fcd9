BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    New-ServedFile $server 'file.bin' 1000 | Out-Null
    $session = Connect-TestServer $server
}
AfterAll {
    Get-SecureFtpSession | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Set-FtpProtection' {
    It 'switches the data channel to Clear and back to Private, and transfers still work' {
        $result = Set-FtpProtection -Level Clear -PassThru
        "$($result.DataProtection)" | Should -Be 'Clear'
        Receive-FtpFile /file.bin TestDrive:/clear.bin
        (Get-Item TestDrive:/clear.bin).Length | Should -Be 1000
        "$((Set-FtpProtection Private -PassThru).DataProtection)" | Should -Be 'Private'
    }

    It 'takes the session from the pipeline by property name' {
        $other = Connect-TestServer $server
        [pscustomobject]@{ Session = $session } | Set-FtpProtection -Level Clear
        "$($session.DataProtection)" | Should -Be 'Clear'
        "$($other.DataProtection)" | Should -Be 'Private'
        Set-FtpProtection -Session $session -Level Private
        $other | Disconnect-SecureFtp
    }

    It 'changes nothing under -WhatIf' {
        Set-FtpProtection -Session $session -Level Clear -WhatIf
        "$($session.DataProtection)" | Should -Be 'Private'
    }

    It 'reports PROT C refused by a server that requires protection as a SecurityError, and keeps PROT P' {
        $strict = Start-TestServer -RequireProtectedData
        try {
            $s = Connect-TestServer $strict
            Set-FtpProtection -Session $s -Level Clear -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'DataProtectionRefused,SecureFtp.PowerShell.Commands.SetFtpProtectionCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
            "$($s.DataProtection)" | Should -Be 'Private'
            $s | Disconnect-SecureFtp
        }
        finally { & $strict.Stop }
    }

    It 'refuses Private on a session without a security mechanism (SecurityError)' {
        $plainServer = Start-SecureFtpServer -Root $TestDrive -AllowAnonymous -AllowInsecure
        try {
            $plain = Connect-SecureFtp 127.0.0.1 -Port $plainServer.Port -Mechanism None -FallbackPolicy Allow
            $plain.Mechanism | Should -Be 'None'
            Set-FtpProtection -Session $plain -Level Private -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $plain | Disconnect-SecureFtp
        }
        finally { $plainServer | Stop-SecureFtpServer }
    }
}
