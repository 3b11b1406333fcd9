BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Rename-FtpItem' {
    It 'renames within the directory by name' {
        New-ServedFile $server 'dir/old.txt' | Out-Null
        Rename-FtpItem /dir/old.txt new.txt
        Test-Path (Join-Path $server.Root 'dir' 'new.txt') | Should -BeTrue
        Test-Path (Join-Path $server.Root 'dir' 'old.txt') | Should -BeFalse
    }

    It 'moves to a full path and returns the item with -PassThru' {
        New-ServedFile $server 'move.txt' 123 | Out-Null
        New-FtpDirectory /target | Out-Null
        $item = Rename-FtpItem /move.txt /target/moved.txt -PassThru
        $item.FullName | Should -Be '/target/moved.txt'
        $item.Length | Should -Be 123
    }

    It 'takes the path from a piped item (FullName)' {
        New-ServedFile $server 'piped.txt' | Out-Null
        Get-FtpChildItem /piped.txt | Rename-FtpItem -NewName renamed.txt
        Test-Path (Join-Path $server.Root 'renamed.txt') | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        New-ServedFile $server 'stay.txt' | Out-Null
        Rename-FtpItem /stay.txt moved.txt -WhatIf
        Test-Path (Join-Path $server.Root 'stay.txt') | Should -BeTrue
    }

    It 'reports a missing source as RemotePathNotFound (ObjectNotFound)' {
        Rename-FtpItem /absent.txt other.txt -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotFound,SecureFtp.PowerShell.Commands.RenameFtpItemCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses an empty new name' {
        { Rename-FtpItem /x.txt '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.RenameFtpItemCommand'
    }
}
