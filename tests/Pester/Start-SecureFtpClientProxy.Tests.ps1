BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }
AfterAll {
    Get-SecureFtpClientProxy | Stop-SecureFtpClientProxy
    Get-SecureFtpServer | Stop-SecureFtpServer
}

Describe 'Start-SecureFtpClientProxy' {
    It 'listens on loopback and a free port, in fixed mode with -Upstream' {
        $proxy = Start-SecureFtpClientProxy -Upstream 'ftp.example.com:21'
        $proxy.ListenAddress.ToString() | Should -Be '127.0.0.1'
        $proxy.Port | Should -BeGreaterThan 0
        $proxy.Mode | Should -Be 'Fixed'
        $proxy.IsRunning | Should -BeTrue
    }

    It 'routes by USER name@host without -Upstream' {
        (Start-SecureFtpClientProxy).Mode | Should -Be 'UserAtHost'
    }

    It 'refuses an upstream that is not host[:port]' {
        { Start-SecureFtpClientProxy -Upstream 'ftp.example.com:99999' -ErrorAction Stop } | Should -Throw -ErrorId 'UpstreamInvalid*'
    }

    It 'carries curl to the embedded server over TLS' -Skip:(-not (Get-Command curl -CommandType Application -ErrorAction SilentlyContinue)) {
        $secure = ConvertTo-SecureString -String 'pester-proxy-pw' -AsPlainText -Force
        $credential = [pscredential]::new('demo', $secure)
        Set-Content -Path TestDrive:/hello.txt -Value 'through the proxy' -NoNewline
        $server = Start-SecureFtpServer -Root TestDrive:/ -Credential $credential
        $proxy = Start-SecureFtpClientProxy -Upstream "127.0.0.1:$($server.Port)" -Mechanism Tls -CertificateThumbprint $server.CertificateThumbprint
        $text = & curl --silent --fail --user 'demo:pester-proxy-pw' "ftp://127.0.0.1:$($proxy.Port)/hello.txt"
        $text | Should -Be 'through the proxy'
        $proxy.TransfersCompleted | Should -Be 1
    }
}
