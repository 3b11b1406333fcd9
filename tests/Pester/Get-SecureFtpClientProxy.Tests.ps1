BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }
AfterAll { Get-SecureFtpClientProxy | Stop-SecureFtpClientProxy }

Describe 'Get-SecureFtpClientProxy' {
    It 'lists the started proxies and finds one by id' {
        $first = Start-SecureFtpClientProxy -Upstream 'ftp.example.com'
        $second = Start-SecureFtpClientProxy
        (Get-SecureFtpClientProxy).Id | Should -Contain $second.Id
        (Get-SecureFtpClientProxy -Id $first.Id).Port | Should -Be $first.Port
    }
}
