BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    Get-SecureFtpSession | Disconnect-SecureFtp
    $first = Connect-TestServer $server
    $second = Connect-SecureFtp localhost -Port $server.Port -Credential $server.Credential -CertificateThumbprint $server.CertificateThumbprint
}
AfterAll {
    Get-SecureFtpSession | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Get-SecureFtpSession' {
    It 'lists the open sessions' {
        (Get-SecureFtpSession).Id | Should -Be @($first.Id, $second.Id)
    }

    It 'gives the last connected session with -Current' {
        (Get-SecureFtpSession -Current).Id | Should -Be $second.Id
    }

    It 'filters by -Id' {
        (Get-SecureFtpSession -Id $first.Id).ComputerName | Should -Be '127.0.0.1'
        Get-SecureFtpSession -Id 999999 | Should -BeNullOrEmpty
    }

    It 'filters by -ComputerName with wildcards' {
        (Get-SecureFtpSession -ComputerName 'local*').Id | Should -Be $second.Id
        Get-SecureFtpSession -ComputerName 'nowhere*' | Should -BeNullOrEmpty
    }

    It 'feeds the pipeline: sessions piped to Disconnect-SecureFtp are closed' {
        $extra = Connect-TestServer $server
        Get-SecureFtpSession -Id $extra.Id | Disconnect-SecureFtp
        $extra.IsConnected | Should -BeFalse
        $first.IsConnected | Should -BeTrue
    }

    It 'shows a session with its table view' {
        $text = Get-SecureFtpSession -Id $first.Id | Out-String
        $text | Should -Match 'TLS'
        $text | Should -Match '127\.0\.0\.1'
    }

    It 'rejects -Id together with -Current (parameter sets)' {
        { Get-SecureFtpSession -Id 1 -Current } | Should -Throw -ErrorId 'AmbiguousParameterSet,SecureFtp.PowerShell.Commands.GetSecureFtpSessionCommand'
    }
}
