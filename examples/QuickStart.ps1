<#
.SYNOPSIS
    Connects to an FTP server over TLS, uploads a file, lists it, downloads it back and checks the hash.
    Without -ComputerName it starts the module's embedded server on 127.0.0.1 and uses that.

.DESCRIPTION
    Runs in pwsh with the built module importable by name; from a fresh clone with only the .NET SDK:
        dotnet tool restore && dotnet pwsh ./build.ps1 -Task QuickStart
    (build.ps1 builds out/SecureFtp and runs this script in a fresh pwsh with out/ on PSModulePath). Against a
    server of your own:
        $env:PSModulePath = "$PWD/out" + [IO.Path]::PathSeparator + $env:PSModulePath
        ./examples/QuickStart.ps1 -ComputerName ftp.example.com -UserName me -Password ...
    It uses only the language, .NET and SecureFtp's cmdlets, so it also runs in the PowerShell engine hosted by
    tools/SecureFtp.Host (the xunit suite's ScriptTests do that).

.PARAMETER ComputerName
    The FTP server (it must offer AUTH TLS). Without it, the embedded server (Start-SecureFtpServer) serves a
    temporary folder on 127.0.0.1 with a self-signed certificate pinned by its thumbprint.

.PARAMETER Mechanism
    Tls (AUTH TLS, the default) or ImplicitTls.

.PARAMETER CertificateThumbprint
    The server certificate's SHA-256 fingerprint, for a server whose certificate no public CA signed.
#>
param(
    [string] $ComputerName,
    [int] $Port = 21,
    [string] $UserName = 'demo',
    [string] $Password = [guid]::NewGuid().ToString(),
    [string] $Mechanism = 'Tls',
    [string] $CertificateThumbprint
)
$ErrorActionPreference = 'Stop'
Import-Module SecureFtp

$secure = [System.Security.SecureString]::new()
foreach ($c in $Password.ToCharArray()) { $secure.AppendChar($c) }
$credential = [pscredential]::new($UserName, $secure)
$work = [System.IO.Directory]::CreateTempSubdirectory('secureftp-quickstart-').FullName
$server = $null
if (-not $ComputerName) {
    $served = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($work, 'served')).FullName
    $server = Start-SecureFtpServer -Root $served -Credential $credential
    "Started the embedded server on 127.0.0.1:$($server.Port), serving $served."
    $ComputerName = '127.0.0.1'
    $Port = $server.Port
    $CertificateThumbprint = $server.CertificateThumbprint
}
$session = $null
try {
    $connect = @{ ComputerName = $ComputerName; Port = $Port; Credential = $credential; Mechanism = $Mechanism }
    if ($CertificateThumbprint) { $connect.CertificateThumbprint = $CertificateThumbprint }
    $session = Connect-SecureFtp @connect
    "Connected to $($session.ComputerName) with $($session.Mechanism) $($session.ProtocolVersion) $($session.Cipher); data protection $($session.DataProtection)."

    $local = [System.IO.Path]::Combine($work, 'hello.txt')
    [System.IO.File]::WriteAllText($local, "Hello over FTPS, $([DateTime]::UtcNow.ToString('o'))`n")
    $remote = "quickstart-$([guid]::NewGuid().ToString('N').Substring(0, 8)).txt"

    Send-FtpFile -Path $local -Destination $remote
    $item = Get-FtpChildItem | Where-Object Name -eq $remote
    "Uploaded $($item.Name): $($item.Length) bytes."

    $back = [System.IO.Path]::Combine($work, 'back.txt')
    Receive-FtpFile -Path $item.FullName -Destination $back
    $same = [System.IO.File]::ReadAllText($back) -eq [System.IO.File]::ReadAllText($local)
    "Downloaded it back; content identical: $same."
    $remoteHash = (Get-FtpFileHash -Path $item.FullName).Hash
    "SHA-256 $remoteHash."

    Remove-FtpItem -Path $item.FullName
    if (-not $same) { throw 'The downloaded file differs from the uploaded one.' }
}
finally {
    if ($session) { Disconnect-SecureFtp -Session $session }
    if ($server) { $server | Stop-SecureFtpServer }
    [System.IO.Directory]::Delete($work, $true)
}
