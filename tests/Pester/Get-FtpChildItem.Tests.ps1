BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) {
        $session = Connect-TestServer
        $remote = New-TestRemoteDirectory
        $file = New-TemporaryFile
        Set-Content -Path $file -Value 'hello'
        Send-FtpFile -Path $file -Destination "$remote/a.txt"
        New-FtpDirectory -Path "$remote/sub" | Out-Null
        Send-FtpFile -Path $file -Destination "$remote/sub/b.txt"
    }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Get-FtpChildItem' -Skip:(-not $HasServer) {
    It 'lists a directory with the properties the next cmdlet needs' {
        $item = Get-FtpChildItem -Path $remote | Where-Object Name -eq 'a.txt'
        $item.FullName | Should -Be "$remote/a.txt"
        $item.Length | Should -BeGreaterThan 0
        $item.Type | Should -Be 'File'
        $item.Session | Should -Not -BeNullOrEmpty
    }

    It 'recurses with relative paths' {
        (Get-FtpChildItem -Path $remote -Recurse -File).RelativePath | Should -Contain 'sub/b.txt'
    }

    It 'reports a missing path as ObjectNotFound' {
        Get-FtpChildItem -Path "$remote/missing" -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'RemotePathNotFound,*'
    }

    It 'formats like Get-ChildItem' {
        Get-FtpChildItem -Path $remote | Out-String | Should -Match 'Directory: '
    }
}
