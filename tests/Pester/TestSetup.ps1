# Shared by every *.Tests.ps1: imports the BUILT module and describes the test server.
# The server comes from the environment (any FTP server the maintainer points at, e.g. the vsftpd the xunit
# fixtures run): SECUREFTP_TEST_HOST, SECUREFTP_TEST_PORT, SECUREFTP_TEST_USER, SECUREFTP_TEST_PASSWORD,
# SECUREFTP_TEST_MECHANISM (default Tls) and SECUREFTP_TEST_THUMBPRINT (the server certificate's SHA-256).
# Without SECUREFTP_TEST_HOST the tests that need a server are skipped; the rest still run.
$script:ModuleManifest = Join-Path $PSScriptRoot '..' '..' 'out' 'SecureFtp' 'SecureFtp.psd1'
Import-Module $script:ModuleManifest -Force

$script:HasServer = [bool]$env:SECUREFTP_TEST_HOST

function Connect-TestServer {
    $secure = ConvertTo-SecureString -String $env:SECUREFTP_TEST_PASSWORD -AsPlainText -Force
    $parameters = @{
        ComputerName = $env:SECUREFTP_TEST_HOST
        Port         = [int]($env:SECUREFTP_TEST_PORT ?? 21)
        Credential   = [pscredential]::new($env:SECUREFTP_TEST_USER, $secure)
        Mechanism    = $env:SECUREFTP_TEST_MECHANISM ?? 'Tls'
    }
    if ($env:SECUREFTP_TEST_THUMBPRINT) { $parameters.CertificateThumbprint = $env:SECUREFTP_TEST_THUMBPRINT }
    Connect-SecureFtp @parameters
}

# A remote scratch directory per test file, removed in AfterAll.
function New-TestRemoteDirectory {
    $path = "/pester-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-FtpDirectory -Path $path | Out-Null
    $path
}
