BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $store = Join-Path $TestDrive 'trust'
}

Describe 'Remove-FtpTrustedKey' {
    BeforeEach {
        Remove-Item -Recurse -Force $store -ErrorAction SilentlyContinue
        Add-FtpTrustedKey -ComputerName a.example.test -Fingerprint ('AB' * 32) -TrustStorePath $store | Out-Null
        Add-FtpTrustedKey -ComputerName a.example.test -Fingerprint ('CD' * 32) -KeyType X-SafeTP1 -TrustStorePath $store | Out-Null
        Add-FtpTrustedKey -ComputerName b.example.test -Fingerprint ('EF' * 32) -TrustStorePath $store | Out-Null
    }

    It 'removes every key of a host' {
        Remove-FtpTrustedKey a.example.test -TrustStorePath $store
        (Get-FtpTrustedKey -TrustStorePath $store).Host | Should -Be 'b.example.test'
    }

    It 'removes only the key type asked for' {
        Remove-FtpTrustedKey a.example.test -KeyType X-SafeTP1 -TrustStorePath $store
        (Get-FtpTrustedKey a.example.test -TrustStorePath $store).KeyType | Should -Be 'TLS'
    }

    It 'removes the keys piped from Get-FtpTrustedKey (Host, Port, KeyType, Fingerprint by property name)' {
        Get-FtpTrustedKey a.example.test -KeyType TLS -TrustStorePath $store | Remove-FtpTrustedKey -TrustStorePath $store
        (Get-FtpTrustedKey a.example.test -TrustStorePath $store).KeyType | Should -Be 'X-SafeTP1'
        @(Get-FtpTrustedKey -TrustStorePath $store).Count | Should -Be 2
    }

    It 'keeps the key under -WhatIf' {
        Remove-FtpTrustedKey -ComputerName a.example.test -TrustStorePath $store -WhatIf
        @(Get-FtpTrustedKey -TrustStorePath $store).Count | Should -Be 3
    }

    It 'reports a host with no key as TrustedKeyNotFound (ObjectNotFound)' {
        Remove-FtpTrustedKey -ComputerName nowhere.test -TrustStorePath $store -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'TrustedKeyNotFound,SecureFtp.PowerShell.Commands.RemoveFtpTrustedKeyCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        @(Get-FtpTrustedKey -TrustStorePath $store).Count | Should -Be 3
    }
}
