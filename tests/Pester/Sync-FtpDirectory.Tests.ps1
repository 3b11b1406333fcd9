BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # The embedded server is the test server: no outside set-up, no skip.
    $server = Start-TestServer
    $session = Connect-TestServer $server
    $remote = '/sync'
    $source = New-TestFile TestDrive:/source.bin 65536
    New-FtpDirectory -Path "$remote/sub" -Force | Out-Null
    Send-FtpFile -Path $source -Destination "$remote/one.bin"
    Send-FtpFile -Path $source -Destination "$remote/sub/two.bin"
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Sync-FtpDirectory' {
    It 'mirrors the remote tree and transfers nothing the second time' {
        $first = Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/mirror
        @($first | Where-Object Action -eq 'Download').Count | Should -Be 2
        (Get-FileHash TestDrive:/mirror/sub/two.bin).Hash | Should -Be (Get-FileHash $source).Hash
        $second = Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/mirror
        @($second | Where-Object Action -ne 'Skip').Count | Should -Be 0
    }

    It 'removes only what the server no longer has, with -Delete' {
        Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/del | Out-Null
        Set-Content -Path TestDrive:/del/stale.txt -Value 'old'
        Set-Content -Path TestDrive:/outside.txt -Value 'keep'
        $result = Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/del -Delete
        ($result | Where-Object Action -eq 'Delete').Path | Should -Be 'stale.txt'
        Test-Path TestDrive:/outside.txt | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/whatif -WhatIf
        Test-Path TestDrive:/whatif/one.bin | Should -BeFalse
    }

    It 'gives the same tree over four sessions' {
        Sync-FtpDirectory -RemotePath $remote -LocalPath TestDrive:/four -ThrottleLimit 4 | Out-Null
        (Get-FileHash TestDrive:/four/one.bin).Hash | Should -Be (Get-FileHash $source).Hash
        (Get-FileHash TestDrive:/four/sub/two.bin).Hash | Should -Be (Get-FileHash $source).Hash
    }
}
