BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    New-ServedFile $server 'top.txt' 100 | Out-Null
    New-ServedFile $server 'docs/a.txt' 200 | Out-Null
    New-ServedFile $server 'docs/deep/b.txt' 300 | Out-Null
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Get-FtpChildItem' {
    It 'lists the current directory with names, types and lengths' {
        $items = Get-FtpChildItem
        $items.Name | Should -Be @('docs', 'top.txt')
        ($items | Where-Object Name -eq 'top.txt').Length | Should -Be 100
        ($items | Where-Object Name -eq 'docs').IsDirectory | Should -BeTrue
    }

    It 'lists a tree with -Recurse, each item with its path relative to the start' {
        (Get-FtpChildItem /docs -Recurse).RelativePath | Should -Be @('a.txt', 'deep', 'deep/b.txt')
    }

    It 'stops at -Depth' {
        (Get-FtpChildItem / -Recurse -Depth 1).RelativePath | Should -Not -Contain 'docs/deep/b.txt'
        (Get-FtpChildItem / -Recurse -Depth 1).RelativePath | Should -Contain 'docs/deep'
    }

    It 'keeps only files with -File and only directories with -Directory' {
        (Get-FtpChildItem / -Recurse -File).RelativePath | Should -Be @('docs/a.txt', 'docs/deep/b.txt', 'top.txt')
        (Get-FtpChildItem / -Recurse -Directory).Name | Should -Be @('docs', 'deep')
    }

    It 'gives a file path as that one item' {
        $item = Get-FtpChildItem /docs/a.txt
        $item.FullName | Should -Be '/docs/a.txt'
        $item.Length | Should -Be 200
    }

    It 'takes paths from the pipeline, by value and by FullName' {
        ('/docs', '/docs/deep' | Get-FtpChildItem).Name | Should -Be @('a.txt', 'deep', 'b.txt')
        (Get-FtpChildItem / -Directory | Get-FtpChildItem).Name | Should -Be @('a.txt', 'deep')
    }

    It 'reports a missing path as RemotePathNotFound (ObjectNotFound) and goes on with the next' {
        $items = Get-FtpChildItem -Path '/missing', '/docs' -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotFound,SecureFtp.PowerShell.Commands.GetFtpChildItemCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failure[0].TargetObject | Should -Be '/missing'
        $items.Name | Should -Contain 'a.txt'
    }

    It 'uses the session given by -Session rather than the current one' {
        $other = Start-TestServer
        try {
            New-ServedFile $other 'only-there.txt' 10 | Out-Null
            $second = Connect-TestServer $other
            (Get-FtpChildItem -Session $session).Name | Should -Not -Contain 'only-there.txt'
            (Get-FtpChildItem).Name | Should -Contain 'only-there.txt'
            $second | Disconnect-SecureFtp
        }
        finally { & $other.Stop }
    }

    It 'fails with NoSession when nothing is connected' {
        $session | Disconnect-SecureFtp
        try {
            { Get-FtpChildItem } | Should -Throw -ErrorId 'NoSession,SecureFtp.PowerShell.Commands.GetFtpChildItemCommand'
        }
        finally { $script:session = Connect-TestServer $server }
    }
}
