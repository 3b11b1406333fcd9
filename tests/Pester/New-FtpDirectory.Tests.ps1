BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer; $remote = New-TestRemoteDirectory }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'New-FtpDirectory' -Skip:(-not $HasServer) {
    It 'creates parents with -Force and returns the directory' {
        (New-FtpDirectory -Path "$remote/x/y/z" -Force).Type | Should -Be 'Directory'
    }

    It 'accepts an existing directory with -Force' {
        { New-FtpDirectory -Path "$remote/x" -Force -ErrorAction Stop } | Should -Not -Throw
    }

    It 'fails without -Force when the parent is missing' {
        New-FtpDirectory -Path "$remote/none/child" -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
    }
}
