BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Get-SecureFtpServer' {
    It 'lists the started servers and finds one by id' {
        $first = Start-SecureFtpServer -Root TestDrive:/
        $second = Start-SecureFtpServer -Root TestDrive:/
        (Get-SecureFtpServer).Id | Should -Contain $second.Id
        (Get-SecureFtpServer -Id $first.Id).Port | Should -Be $first.Port
    }
}
