BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Stop-SecureFtpClientProxy' {
    It 'stops the proxy and forgets it' {
        $proxy = Start-SecureFtpClientProxy -Upstream 'ftp.example.com'
        Stop-SecureFtpClientProxy -Proxy $proxy
        $proxy.IsRunning | Should -BeFalse
        Get-SecureFtpClientProxy | Where-Object Id -eq $proxy.Id | Should -BeNullOrEmpty
    }

    It 'keeps the proxy under -WhatIf' {
        $proxy = Start-SecureFtpClientProxy -Upstream 'ftp.example.com'
        $proxy | Stop-SecureFtpClientProxy -WhatIf
        $proxy.IsRunning | Should -BeTrue
        $proxy | Stop-SecureFtpClientProxy
    }
}
