BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $local = New-ServedFile $server 'hash/data.bin' 50000
    New-ServedFile $server 'hash/other.bin' 10 | Out-Null
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Get-FtpFileHash' {
    It 'matches Get-FileHash of the same content' {
        $hash = Get-FtpFileHash /hash/data.bin
        $hash.Algorithm | Should -Be 'SHA256'
        $hash.Hash | Should -Be (Get-FileHash $local).Hash
        $hash.Path | Should -Be '/hash/data.bin'
    }

    It 'reads the file itself with -Download, and other algorithms' {
        $hash = Get-FtpFileHash /hash/data.bin -Algorithm MD5 -Download
        $hash.Source | Should -Be 'Download'
        $hash.Hash | Should -Be (Get-FileHash $local -Algorithm MD5).Hash
    }

    It 'hashes every file piped from Get-FtpChildItem' {
        $hashes = Get-FtpChildItem /hash -File | Get-FtpFileHash
        $hashes.Path | Should -Be @('/hash/data.bin', '/hash/other.bin')
    }

    It 'reports a missing file as RemotePathNotFound (ObjectNotFound)' {
        Get-FtpFileHash /hash/missing.bin -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'RemotePathNotFound,SecureFtp.PowerShell.Commands.GetFtpFileHashCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'rejects an algorithm it does not offer' {
        { Get-FtpFileHash /hash/data.bin -Algorithm CRC32 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.GetFtpFileHashCommand'
    }
}
