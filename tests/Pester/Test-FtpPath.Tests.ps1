BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    New-ServedFile $server 'dir/file.txt' | Out-Null
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Test-FtpPath' {
    It 'is true for a path that exists and false for one that does not' {
        Test-FtpPath /dir/file.txt | Should -BeTrue
        Test-FtpPath /dir/nothere.txt | Should -BeFalse
    }

    It 'checks the type with -PathType' {
        Test-FtpPath /dir -PathType Container | Should -BeTrue
        Test-FtpPath /dir -PathType Leaf | Should -BeFalse
        Test-FtpPath /dir/file.txt -PathType Leaf | Should -BeTrue
    }

    It 'answers once per piped path' {
        '/dir', '/missing', '/dir/file.txt' | Test-FtpPath | Should -Be @($true, $false, $true)
    }

    It 'fails with SessionClosed on a closed session' {
        $closed = Connect-TestServer $server
        $closed | Disconnect-SecureFtp
        { Test-FtpPath / -Session $closed } | Should -Throw -ErrorId 'SessionClosed,SecureFtp.PowerShell.Commands.TestFtpPathCommand'
    }
}
