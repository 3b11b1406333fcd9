BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Get-SecureFtpServer | Stop-SecureFtpServer
    $credential = New-TestCredential
    $first = Start-SecureFtpServer -Root $TestDrive -Credential $credential
    $second = Start-SecureFtpServer -Root $TestDrive -Credential $credential
}
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Get-SecureFtpServer' {
    It 'lists the servers started in this runspace' {
        (Get-SecureFtpServer).Id | Should -Be @($first.Id, $second.Id)
    }

    It 'filters by -Id' {
        (Get-SecureFtpServer -Id $second.Id).Port | Should -Be $second.Port
        Get-SecureFtpServer -Id 999999 | Should -BeNullOrEmpty
    }

    It 'counts the connections a server accepted' {
        $session = Connect-SecureFtp 127.0.0.1 -Port $first.Port -Credential $credential -CertificateThumbprint $first.CertificateThumbprint
        (Get-SecureFtpServer -Id $first.Id).ConnectionsAccepted | Should -BeGreaterOrEqual 1
        $session | Disconnect-SecureFtp
    }

    It 'feeds Stop-SecureFtpServer through the pipeline' {
        Get-SecureFtpServer -Id $second.Id | Stop-SecureFtpServer
        (Get-SecureFtpServer).Id | Should -Be $first.Id
    }

    It 'shows a server with its view' {
        $text = $first | Out-String
        $text | Should -Match "$($first.Port)"
    }
}
