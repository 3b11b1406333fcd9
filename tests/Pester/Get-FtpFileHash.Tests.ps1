BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    if ($HasServer) {
        $session = Connect-TestServer
        $remote = New-TestRemoteDirectory
        $source = New-TemporaryFile
        [System.IO.File]::WriteAllBytes($source, [byte[]](1..255))
        Send-FtpFile -Path $source -Destination "$remote/data.bin"
    }
}
AfterAll { if ($HasServer) { Remove-FtpItem -Path $remote -Recurse; $session | Disconnect-SecureFtp } }

Describe 'Get-FtpFileHash' -Skip:(-not $HasServer) {
    It 'matches Get-FileHash for <_>' -ForEach 'SHA256', 'SHA1', 'MD5' {
        (Get-FtpFileHash -Path "$remote/data.bin" -Algorithm $_).Hash | Should -Be (Get-FileHash -Path $source -Algorithm $_).Hash
    }

    It 'computes by download when asked' {
        (Get-FtpFileHash -Path "$remote/data.bin" -Download).Source | Should -Be 'Download'
    }
}
