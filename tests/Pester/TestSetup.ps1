# Shared by every *.Tests.ps1 (dot-sourced in BeforeAll): imports the BUILT module (out/SecureFtp) and starts test
# servers on 127.0.0.1 and free ports, so nothing outside the repository has to be set up:
#   Start-TestServer            the module's embedded server (Start-SecureFtpServer) over a temporary folder
#   Start-TestServer -Vsftpd    Debian's vsftpd (tests/peers/install.sh installs it and the ftptest login), where
#                               installed and run as root; Test-VsftpdAvailable says whether it can run (under CI=true
#                               a missing vsftpd fails the tests that need it instead of skipping them).
# Each returns the facts a client needs (ComputerName, Port, Credential, CertificateThumbprint, Root = the served
# local folder) and a Stop scriptblock. The trust store of the whole run is a temporary folder (SECUREFTP_TRUST_STORE),
# so no test writes into the user's profile.
$script:ModuleManifest = Join-Path $PSScriptRoot '..' '..' 'out' 'SecureFtp' 'SecureFtp.psd1'
if (-not (Get-Module SecureFtp)) { Import-Module $script:ModuleManifest }
if (-not $env:SECUREFTP_TRUST_STORE) {
    $env:SECUREFTP_TRUST_STORE = [IO.Directory]::CreateTempSubdirectory('secureftp-pester-trust-').FullName
}

# The login tests/peers/install.sh creates for the real peers.
$script:PeerUserName = 'ftptest'
$script:PeerPassword = 'Wire-Secret-5f3a9c'

function New-TestCredential([string] $UserName = 'pester', [string] $Password = [guid]::NewGuid().ToString()) {
    [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
}

function Get-FreeTcpPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Get-VsftpdPath {
    foreach ($candidate in @((Get-Command vsftpd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source, '/usr/sbin/vsftpd')) {
        if ($candidate -and (Test-Path $candidate)) { return $candidate }
    }
}

# vsftpd runs where it is installed, the ftptest login exists and we are root (it must start as root).
function Test-VsftpdAvailable {
    $IsLinux -and (Get-VsftpdPath) -and ((& id -u) -eq '0') -and ((& id -u $script:PeerUserName 2>$null) -match '^\d+$')
}

function Start-TestServer {
    param(
        [switch] $Vsftpd,
        # PROT P required, cleartext login refused: the policy a compliant site has.
        [switch] $RequireProtectedData
    )
    $root = [IO.Directory]::CreateTempSubdirectory('secureftp-pester-root-').FullName
    if ($Vsftpd) { return Start-TestVsftpd -Root $root -RequireProtectedData:$RequireProtectedData }
    $credential = New-TestCredential
    $server = Start-SecureFtpServer -Root $root -Credential $credential -RequireProtectedData:$RequireProtectedData
    [pscustomobject]@{
        Kind                  = 'Embedded'
        ComputerName          = '127.0.0.1'
        Port                  = $server.Port
        Credential            = $credential
        CertificateThumbprint = $server.CertificateThumbprint
        Root                  = $root
        Server                = $server
        Stop                  = { $server | Stop-SecureFtpServer -Confirm:$false; Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }.GetNewClosure()
    }
}

function Start-TestVsftpd([string] $Root, [switch] $RequireProtectedData) {
    $ErrorActionPreference = 'Stop'
    if (-not (Test-VsftpdAvailable)) { throw 'vsftpd is not available: run tests/peers/install.sh as root (and the tests as root).' }
    $work = [IO.Directory]::CreateTempSubdirectory('secureftp-pester-vsftpd-').FullName
    $empty = New-Item -ItemType Directory -Path (Join-Path $work 'empty')
    $certificate = New-SecureFtpKey -Type TlsCertificate -Path (Join-Path $work 'server.pem') -Brand localhost
    & chown "$($script:PeerUserName):$($script:PeerUserName)" $Root
    $port = Get-FreeTcpPort
    $config = Join-Path $work 'vsftpd.conf'
    @"
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$port
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
local_root=$Root
secure_chroot_dir=$($empty.FullName)
pam_service_name=vsftpd
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
ssl_enable=YES
rsa_cert_file=$($certificate.Path)
rsa_private_key_file=$($certificate.Path)
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=NO
require_ssl_reuse=YES
strict_ssl_read_eof=YES
force_local_logins_ssl=YES
force_local_data_ssl=$(if ($RequireProtectedData) { 'YES' } else { 'NO' })
vsftpd_log_file=$(Join-Path $work 'vsftpd.log')
"@ | Set-Content -Path $config
    # Through sh only to send its output to files; exec makes the shell vsftpd itself, so Stop kills the server.
    $start = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
    foreach ($argument in '-c', 'exec "$0" "$1" >"$2" 2>&1', (Get-VsftpdPath), $config, (Join-Path $work 'output.txt')) { $start.ArgumentList.Add($argument) }
    $start.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($start)
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ($true) {
        $probe = [Net.Sockets.TcpClient]::new()
        try { $probe.Connect('127.0.0.1', $port); break }
        catch {
            if ($process.HasExited -or [DateTime]::UtcNow -gt $deadline) {
                $errors = Get-Content -Raw (Join-Path $work 'output.txt') -ErrorAction SilentlyContinue
                if (-not $process.HasExited) { $process.Kill() }
                throw "vsftpd did not start on 127.0.0.1:${port}: $errors"
            }
            Start-Sleep -Milliseconds 100
        }
        finally { $probe.Dispose() }
    }
    [pscustomobject]@{
        Kind                  = 'vsftpd'
        ComputerName          = '127.0.0.1'
        Port                  = $port
        Credential            = New-TestCredential $script:PeerUserName $script:PeerPassword
        CertificateThumbprint = $certificate.Fingerprint
        Root                  = $Root
        Server                = $process
        Stop                  = {
            if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit(5000) | Out-Null }
            Remove-Item -Recurse -Force $work, $Root -ErrorAction SilentlyContinue
        }.GetNewClosure()
    }
}

# A session to a test server, over TLS with its certificate pinned.
function Connect-TestServer([Parameter(Mandatory)] $Server, [hashtable] $Extra = @{}) {
    Connect-SecureFtp -ComputerName $Server.ComputerName -Port $Server.Port -Credential $Server.Credential `
        -Mechanism Tls -CertificateThumbprint $Server.CertificateThumbprint @Extra
}

# A file of random bytes; returns its path.
function New-TestFile([string] $Path, [int] $Length = 4096) {
    $bytes = [byte[]]::new($Length)
    [Random]::new($Length).NextBytes($bytes)
    $full = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
    [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($full)) | Out-Null
    [IO.File]::WriteAllBytes($full, $bytes)
    $full
}

# Puts a file straight into the served folder (not through the module), so a test of a download does not rely on uploads.
function New-ServedFile($Server, [string] $RelativePath, [int] $Length = 4096) {
    $path = New-TestFile (Join-Path $Server.Root $RelativePath) $Length
    if ($Server.Kind -eq 'vsftpd') { & chown -R "$($script:PeerUserName):$($script:PeerUserName)" $Server.Root }
    $path
}
