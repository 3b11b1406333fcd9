BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer; $remote = New-TestRemoteDirectory }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Rename-FtpItem' -Skip:(-not $HasServer) {
    It 'renames in place' {
        New-FtpDirectory -Path "$remote/old" | Out-Null
        (Rename-FtpItem -Path "$remote/old" -NewName new -PassThru).FullName | Should -Be "$remote/new"
        Test-FtpPath -Path "$remote/old" | Should -BeFalse
    }

    It 'changes nothing under -WhatIf' {
        Rename-FtpItem -Path "$remote/new" -NewName other -WhatIf
        Test-FtpPath -Path "$remote/new" | Should -BeTrue
    }
}
