BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $one = New-ServedFile $server 'tree/one.bin' 100000
    $two = New-ServedFile $server 'tree/sub/two.bin' 5000
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Receive-FtpFile' {
    It 'downloads a file, byte for byte' {
        Receive-FtpFile -Path /tree/one.bin -Destination TestDrive:/one.bin
        (Get-FileHash TestDrive:/one.bin).Hash | Should -Be (Get-FileHash $one).Hash
    }

    It 'returns the local file with -PassThru' {
        $file = Receive-FtpFile /tree/sub/two.bin TestDrive:/passthru.bin -PassThru
        $file | Should -BeOfType [IO.FileInfo]
        $file.Length | Should -Be 5000
    }

    It 'keeps the remote tree when fed a recursive listing' {
        Get-FtpChildItem -Path /tree -Recurse | Receive-FtpFile -Destination TestDrive:/copy
        (Get-FileHash TestDrive:/copy/sub/two.bin).Hash | Should -Be (Get-FileHash $two).Hash
        (Get-FileHash TestDrive:/copy/one.bin).Hash | Should -Be (Get-FileHash $one).Hash
        Get-ChildItem TestDrive:/copy -Recurse -Filter *.part | Should -BeNullOrEmpty
    }

    It 'takes remote paths from the pipeline into a directory' {
        '/tree/one.bin', '/tree/sub/two.bin' | Receive-FtpFile -Destination TestDrive:/flat
        (Get-ChildItem TestDrive:/flat).Name | Should -Be @('one.bin', 'two.bin')
    }

    It 'does not overwrite without -Force: RemoteFileExists... locally AlreadyExists (ResourceExists), old content kept' {
        Set-Content TestDrive:/keep.bin 'old content'
        Receive-FtpFile -Path /tree/one.bin -Destination TestDrive:/keep.bin -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $failure[0].FullyQualifiedErrorId | Should -BeLike '*Exists,SecureFtp.PowerShell.Commands.ReceiveFtpFileCommand'
        Get-Content TestDrive:/keep.bin | Should -Be 'old content'
    }

    It 'overwrites with -Force' {
        Set-Content TestDrive:/force.bin 'old content'
        Receive-FtpFile -Path /tree/one.bin -Destination TestDrive:/force.bin -Force
        (Get-Item TestDrive:/force.bin).Length | Should -Be 100000
    }

    It 'goes on after a missing file: RemotePathNotFound (ObjectNotFound), no partial file' {
        '/tree/one.bin', '/tree/missing.bin', '/tree/sub/two.bin' | Receive-FtpFile -Destination TestDrive:/batch -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotFound,SecureFtp.PowerShell.Commands.ReceiveFtpFileCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        (Get-ChildItem TestDrive:/batch).Name | Should -Be @('one.bin', 'two.bin')
    }

    It 'changes nothing under -WhatIf' {
        Receive-FtpFile -Path /tree/one.bin -Destination TestDrive:/whatif.bin -WhatIf
        Test-Path TestDrive:/whatif.bin | Should -BeFalse
    }

    It 'uses the session of each piped item, not the current one' {
        $other = Start-TestServer
        try {
            $second = Connect-TestServer $other
            (Get-SecureFtpSession -Current).Id | Should -Be $second.Id
            Get-FtpChildItem -Session $session /tree/sub | Receive-FtpFile -Destination TestDrive:/bysession
            Test-Path TestDrive:/bysession/two.bin | Should -BeTrue
            $second | Disconnect-SecureFtp
        }
        finally { & $other.Stop }
    }
}
