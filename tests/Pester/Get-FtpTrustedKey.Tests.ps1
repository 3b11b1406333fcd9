BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $store = Join-Path $TestDrive 'trust'
    Add-FtpTrustedKey -ComputerName a.example.test -Fingerprint ('AB' * 32) -TrustStorePath $store | Out-Null
    Add-FtpTrustedKey -ComputerName b.example.test -Fingerprint ('CD' * 32) -KeyType X-SafeTP1 -TrustStorePath $store | Out-Null
    Add-FtpTrustedKey -ComputerName c.other.test -Fingerprint ('EF' * 32) -Port 2121 -TrustStorePath $store | Out-Null
}

Describe 'Get-FtpTrustedKey' {
    It 'lists every key in the store' {
        (Get-FtpTrustedKey -TrustStorePath $store).Host | Should -Be @('a.example.test', 'b.example.test', 'c.other.test')
    }

    It 'filters by host name with wildcards' {
        (Get-FtpTrustedKey '*.example.test' -TrustStorePath $store).Host | Should -Be @('a.example.test', 'b.example.test')
    }

    It 'filters by -KeyType' {
        (Get-FtpTrustedKey -KeyType X-SafeTP1 -TrustStorePath $store).Host | Should -Be 'b.example.test'
    }

    It 'keeps the port a key was added for' {
        (Get-FtpTrustedKey c.other.test -TrustStorePath $store).Port | Should -Be 2121
    }

    It 'reads the store named by SECUREFTP_TRUST_STORE when no path is given' {
        $saved = $env:SECUREFTP_TRUST_STORE
        try {
            $env:SECUREFTP_TRUST_STORE = $store
            @(Get-FtpTrustedKey).Count | Should -Be 3
        }
        finally { $env:SECUREFTP_TRUST_STORE = $saved }
    }

    It 'returns nothing from an empty store' {
        Get-FtpTrustedKey -TrustStorePath (Join-Path $TestDrive 'empty') | Should -BeNullOrEmpty
    }

    It 'refuses a key type it does not know' {
        { Get-FtpTrustedKey -KeyType Bogus -TrustStorePath $store } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.GetFtpTrustedKeyCommand'
    }

    It 'reports a corrupt store as TrustStoreInvalid (SecurityError)' {
        $corrupt = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'corrupt')
        Get-ChildItem $store | Copy-Item -Destination $corrupt
        Get-ChildItem $corrupt -File | ForEach-Object { Set-Content $_.FullName '{ this is not the store' }
        Get-FtpTrustedKey -TrustStorePath $corrupt -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'TrustStoreInvalid,SecureFtp.PowerShell.Commands.GetFtpTrustedKeyCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
    }
}
