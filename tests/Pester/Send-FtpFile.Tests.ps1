BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) { $session = Connect-TestServer; $remote = New-TestRemoteDirectory }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Send-FtpFile' -Skip:(-not $HasServer) {
    It 'recreates a local tree from Get-ChildItem -Recurse' {
        New-Item -ItemType Directory TestDrive:/up/sub -Force | Out-Null
        Set-Content TestDrive:/up/one.txt 'one'
        Set-Content TestDrive:/up/sub/two.txt 'two'
        Get-ChildItem TestDrive:/up -Recurse | Send-FtpFile -Destination $remote
        Test-FtpPath -Path "$remote/sub/two.txt" -PathType Leaf | Should -BeTrue
    }

    It 'refuses to overwrite without -Force' {
        Set-Content TestDrive:/x.txt 'x'
        Send-FtpFile -Path TestDrive:/x.txt -Destination "$remote/x.txt"
        Send-FtpFile -Path TestDrive:/x.txt -Destination "$remote/x.txt" -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
    }

    It 'reports a missing local file' {
        Send-FtpFile -Path TestDrive:/nope.txt -Destination $remote -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'LocalPathNotFound,*'
    }
}
