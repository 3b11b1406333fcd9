BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $session = Connect-TestServer $server
    $local = New-TestFile TestDrive:/upload.bin 70000
    New-TestFile TestDrive:/tree/a.txt 10 | Out-Null
    New-TestFile TestDrive:/tree/sub/b.txt 20 | Out-Null
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Send-FtpFile' {
    It 'uploads a file, byte for byte' {
        Send-FtpFile -Path $local -Destination /upload.bin
        (Get-FileHash (Join-Path $server.Root 'upload.bin')).Hash | Should -Be (Get-FileHash $local).Hash
    }

    It 'returns the remote item with -PassThru' {
        $item = Send-FtpFile $local /passthru.bin -PassThru
        $item.FullName | Should -Be '/passthru.bin'
        $item.Length | Should -Be 70000
    }

    It 'recreates a local tree fed by Get-ChildItem -Recurse' {
        New-FtpDirectory /tree | Out-Null
        Get-ChildItem TestDrive:/tree -Recurse | Send-FtpFile -Destination /tree
        Test-Path (Join-Path $server.Root 'tree' 'sub' 'b.txt') | Should -BeTrue
        (Get-FtpChildItem /tree -Recurse -File).RelativePath | Should -Be @('a.txt', 'sub/b.txt')
    }

    It 'uploads into a directory by name when the destination is a directory' {
        New-FtpDirectory /into | Out-Null
        Send-FtpFile $local /into
        Test-Path (Join-Path $server.Root 'into' 'upload.bin') | Should -BeTrue
    }

    It 'does not overwrite without -Force: AlreadyExists (ResourceExists), remote file kept' {
        Set-Content (Join-Path $server.Root 'kept.txt') 'remote content'
        Send-FtpFile $local /kept.txt -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $failure[0].FullyQualifiedErrorId | Should -BeLike '*Exists,SecureFtp.PowerShell.Commands.SendFtpFileCommand'
        Get-Content (Join-Path $server.Root 'kept.txt') | Should -Be 'remote content'
    }

    It 'overwrites with -Force' {
        Set-Content (Join-Path $server.Root 'forced.txt') 'remote content'
        Send-FtpFile $local /forced.txt -Force
        (Get-Item (Join-Path $server.Root 'forced.txt')).Length | Should -Be 70000
    }

    It 'reports a missing local file as LocalPathNotFound (ObjectNotFound) and goes on' {
        New-FtpDirectory /batch | Out-Null
        Send-FtpFile -Path (Join-Path $TestDrive 'nothere.bin'), $local -Destination /batch/ -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'LocalPathNotFound,SecureFtp.PowerShell.Commands.SendFtpFileCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Test-Path (Join-Path $server.Root 'batch' 'upload.bin') | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        Send-FtpFile $local /whatif.bin -WhatIf
        Test-Path (Join-Path $server.Root 'whatif.bin') | Should -BeFalse
    }

    It 'leaves no file under the final name when the server refuses the upload' {
        Send-FtpFile $local /no/such/dir/file.bin -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -BeGreaterThan 0
        Test-Path (Join-Path $server.Root 'no') | Should -BeFalse
    }
}
