BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $credential = New-TestCredential 'demo'
    Set-Content TestDrive:/served.txt 'served'
}
AfterAll { Get-SecureFtpServer | Stop-SecureFtpServer }

Describe 'Start-SecureFtpServer' {
    AfterEach { Get-SecureFtpSession | Disconnect-SecureFtp }

    It 'serves a folder over TLS on loopback and a free port' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        $server.ListenAddress | Should -Be ([ipaddress]::Loopback)
        $server.Port | Should -BeGreaterThan 0
        $server.IsRunning | Should -BeTrue
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint
        $session.Mechanism | Should -Be 'TLS'
        (Get-FtpChildItem -Session $session).Name | Should -Contain 'served.txt'
        $server | Stop-SecureFtpServer
    }

    It 'refuses a login before TLS unless -AllowInsecure' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism None -FallbackPolicy Allow -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'LoginRefused,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $server | Stop-SecureFtpServer
    }

    It 'serves anonymous users with -AllowAnonymous' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -AllowAnonymous
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -CertificateThumbprint $server.CertificateThumbprint
        (Get-FtpChildItem -Session $session).Name | Should -Contain 'served.txt'
        $server | Stop-SecureFtpServer
    }

    It 'refuses PROT C with -RequireProtectedData' {
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential -RequireProtectedData
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -CertificateThumbprint $server.CertificateThumbprint
        (Invoke-FtpCommand -Session $session 'PROT C').Code | Should -Be 534
        $server | Stop-SecureFtpServer
    }

    It 'offers TLS, X-SafeTP1 and KEA-SKIPJACK together' {
        $serverKey = New-SecureFtpKey -Type SafeTpServer -Path TestDrive:/keys/server.key -Bits 1024 -Brand 'ftp.test'
        $kea = New-SecureFtpKey -Type Kea -Path TestDrive:/keys/server.pem -Brand 'CN=ftp.test'
        $alice = New-SecureFtpKey -Type Kea -Path TestDrive:/keys/alice.pem -Brand alice
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential -ServerKey $serverKey.Path -KeaCredential $kea.Path -KeaUserMap @{ 'CN=alice' = 'demo' } -Mechanism TLS, X-SafeTP1, KEA-SKIPJACK
        $session = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism KeaSkipjack -KeaCredential $alice.Path
        $session.Mechanism | Should -Be 'KEA-SKIPJACK'
        (Get-FtpChildItem -Session $session).Name | Should -Contain 'served.txt'
        $safeTp = Connect-SecureFtp 127.0.0.1 -Port $server.Port -Credential $credential -Mechanism SafeTp -AcceptKey -ClientKey TestDrive:/keys/client.key
        $safeTp.Mechanism | Should -Be 'X-SafeTP1'
        (Get-FtpChildItem -Session $safeTp).Name | Should -Contain 'served.txt'
        $server | Stop-SecureFtpServer
    }

    It 'completes the mechanism names it offers' {
        $line = 'Start-SecureFtpServer -Mechanism KEA'
        $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $result.CompletionMatches.CompletionText | Should -Contain 'KEA-SKIPJACK'
    }

    It 'refuses -KeaUserMap without -KeaCredential: InvalidArgument, nothing listening' {
        $before = @(Get-SecureFtpServer).Count
        { Start-SecureFtpServer -Root TestDrive:/ -Credential $credential -KeaUserMap @{ 'CN=alice' = 'demo' } } |
            Should -Throw -ErrorId 'InvalidArgument,SecureFtp.PowerShell.Commands.StartSecureFtpServerCommand'
        @(Get-SecureFtpServer).Count | Should -Be $before
    }

    It 'refuses a port that is taken (terminating error, no server left behind)' {
        $first = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        $before = @(Get-SecureFtpServer).Count
        $failure = { Start-SecureFtpServer -Root TestDrive:/ -Credential $credential -Port $first.Port } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike '*,SecureFtp.PowerShell.Commands.StartSecureFtpServerCommand'
        @(Get-SecureFtpServer).Count | Should -Be $before
        $first | Stop-SecureFtpServer
    }

    It 'refuses a root folder that does not exist' {
        $failure = { Start-SecureFtpServer -Root TestDrive:/not/there -Credential $credential } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike '*,SecureFtp.PowerShell.Commands.StartSecureFtpServerCommand'
        "$failure" | Should -Match 'not[/\\]there'
    }
}
