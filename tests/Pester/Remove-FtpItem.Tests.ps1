BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Remove-FtpItem' {
    It 'deletes a file' {
        New-ServedFile $server 'gone.txt' | Out-Null
        Remove-FtpItem /gone.txt
        Test-Path (Join-Path $server.Root 'gone.txt') | Should -BeFalse
    }

    It 'deletes a directory and its contents with -Recurse' {
        New-ServedFile $server 'dir/sub/x.txt' | Out-Null
        Remove-FtpItem /dir -Recurse
        Test-Path (Join-Path $server.Root 'dir') | Should -BeFalse
    }

    It 'refuses a non-empty directory without -Recurse and keeps it' {
        New-ServedFile $server 'full/x.txt' | Out-Null
        Remove-FtpItem /full -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        Test-Path (Join-Path $server.Root 'full' 'x.txt') | Should -BeTrue
    }

    It 'deletes the items piped from Get-FtpChildItem' {
        New-ServedFile $server 'piped/a.log' | Out-Null
        New-ServedFile $server 'piped/b.log' | Out-Null
        New-ServedFile $server 'piped/keep.txt' | Out-Null
        Get-FtpChildItem /piped | Where-Object Name -like '*.log' | Remove-FtpItem
        (Get-ChildItem (Join-Path $server.Root 'piped')).Name | Should -Be 'keep.txt'
    }

    It 'changes nothing under -WhatIf' {
        New-ServedFile $server 'whatif.txt' | Out-Null
        Remove-FtpItem /whatif.txt -WhatIf
        Test-Path (Join-Path $server.Root 'whatif.txt') | Should -BeTrue
    }

    It 'reports a missing path as RemotePathNotFound (ObjectNotFound) and goes on' {
        New-ServedFile $server 'after.txt' | Out-Null
        Remove-FtpItem /missing.txt, /after.txt -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotFound,SecureFtp.PowerShell.Commands.RemoveFtpItemCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Test-Path (Join-Path $server.Root 'after.txt') | Should -BeFalse
    }
}
