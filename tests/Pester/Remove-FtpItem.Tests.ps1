BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer; $remote = New-TestRemoteDirectory }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse -ErrorAction SilentlyContinue; $session | Disconnect-SecureFtp } }

Describe 'Remove-FtpItem' -Skip:(-not $HasServer) {
    It 'keeps everything under -WhatIf and deletes recursively without it' {
        New-FtpDirectory -Path "$remote/a/b" -Force | Out-Null
        Remove-FtpItem -Path "$remote/a" -Recurse -WhatIf
        Test-FtpPath -Path "$remote/a/b" | Should -BeTrue
        Remove-FtpItem -Path "$remote/a" -Recurse
        Test-FtpPath -Path "$remote/a" | Should -BeFalse
    }

    It 'reports a missing path as ObjectNotFound' {
        Remove-FtpItem -Path "$remote/missing" -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
