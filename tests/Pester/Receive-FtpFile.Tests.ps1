BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) {
        $session = Connect-TestServer
        $remote = New-TestRemoteDirectory
        $source = New-TemporaryFile
        [System.IO.File]::WriteAllBytes($source, [byte[]]::new(1MB))
        New-FtpDirectory -Path "$remote/sub" | Out-Null
        Send-FtpFile -Path $source -Destination "$remote/one.bin"
        Send-FtpFile -Path $source -Destination "$remote/sub/two.bin"
    }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Receive-FtpFile' -Skip:(-not $HasServer) {
    It 'keeps the remote tree when fed a recursive listing' {
        Get-FtpChildItem -Path $remote -Recurse | Receive-FtpFile -Destination TestDrive:/tree
        (Get-FileHash TestDrive:/tree/sub/two.bin).Hash | Should -Be (Get-FileHash $source).Hash
        Get-ChildItem TestDrive:/tree -Recurse -Filter *.part | Should -BeNullOrEmpty
    }

    It 'does not overwrite without -Force' {
        Receive-FtpFile -Path "$remote/one.bin" -Destination TestDrive:/once.bin
        Receive-FtpFile -Path "$remote/one.bin" -Destination TestDrive:/once.bin -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
    }

    It 'goes on after a missing file (non-terminating ObjectNotFound)' {
        "$remote/one.bin", "$remote/missing.bin", "$remote/sub/two.bin" | Receive-FtpFile -Destination TestDrive:/batch -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'RemotePathNotFound,*'
        Test-Path TestDrive:/batch/two.bin | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        Receive-FtpFile -Path "$remote/one.bin" -Destination TestDrive:/whatif.bin -WhatIf
        Test-Path TestDrive:/whatif.bin | Should -BeFalse
    }
}
