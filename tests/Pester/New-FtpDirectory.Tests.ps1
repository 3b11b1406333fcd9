BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'New-FtpDirectory' {
    It 'creates a directory and returns it' {
        $item = New-FtpDirectory /made
        $item.IsDirectory | Should -BeTrue
        Test-Path (Join-Path $server.Root 'made') -PathType Container | Should -BeTrue
    }

    It 'creates missing parents with -Force, and is quiet when it exists' {
        New-FtpDirectory /a/b/c -Force | Out-Null
        Test-Path (Join-Path $server.Root 'a' 'b' 'c') -PathType Container | Should -BeTrue
        { New-FtpDirectory /a/b/c -Force -ErrorAction Stop } | Should -Not -Throw
    }

    It 'creates every path piped to it' {
        '/p1', '/p2' | New-FtpDirectory | Out-Null
        Test-Path (Join-Path $server.Root 'p1'), (Join-Path $server.Root 'p2') | Should -Be @($true, $true)
    }

    It 'changes nothing under -WhatIf' {
        New-FtpDirectory /whatif -WhatIf
        Test-Path (Join-Path $server.Root 'whatif') | Should -BeFalse
    }

    It 'refuses -Force over a file: RemotePathNotDirectory (ResourceExists)' {
        New-ServedFile $server 'afile' | Out-Null
        New-FtpDirectory /afile -Force -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotDirectory,SecureFtp.PowerShell.Commands.NewFtpDirectoryCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        Test-Path (Join-Path $server.Root 'afile') -PathType Leaf | Should -BeTrue
    }

    It 'reports an existing directory without -Force as an error' {
        New-FtpDirectory /twice | Out-Null
        New-FtpDirectory /twice -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].TargetObject | Should -Be '/twice'
    }
}
