BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer; $remote = New-TestRemoteDirectory }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Test-FtpPath' -Skip:(-not $HasServer) {
    It 'tells directories from files and missing paths' {
        Test-FtpPath -Path $remote -PathType Container | Should -BeTrue
        Test-FtpPath -Path $remote -PathType Leaf | Should -BeFalse
        Test-FtpPath -Path "$remote/missing" | Should -BeFalse
    }
}
