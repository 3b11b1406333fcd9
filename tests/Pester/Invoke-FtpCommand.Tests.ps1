BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $server = Start-TestServer
    $session = Connect-TestServer $server
}
AfterAll {
    $session | Disconnect-SecureFtp
    & $server.Stop
}

Describe 'Invoke-FtpCommand' {
    It 'returns the reply to a command' {
        $reply = Invoke-FtpCommand NOOP
        $reply.Code | Should -Be 200
    }

    It 'sends every command piped to it, in order' {
        $replies = 'NOOP', 'PWD' | Invoke-FtpCommand
        $replies.Code | Should -Be @(200, 257)
    }

    It 'returns a negative reply as output, not as an error' {
        $reply = Invoke-FtpCommand 'XYZZY' -ErrorVariable failure
        $failure | Should -BeNullOrEmpty
        $reply.Code | Should -BeGreaterOrEqual 500
    }

    It 'refuses a command with a line break (no command smuggling): InvalidArgument (ProtocolError)' {
        Invoke-FtpCommand "NOOP`r`nDELE /x" -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,SecureFtp.PowerShell.Commands.InvokeFtpCommandCommand'
        $failure[0].CategoryInfo.Category | Should -Be 'ProtocolError'
        (Invoke-FtpCommand NOOP).Code | Should -Be 200
    }

    It 'refuses an empty command' {
        { Invoke-FtpCommand '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SecureFtp.PowerShell.Commands.InvokeFtpCommandCommand'
    }
}
