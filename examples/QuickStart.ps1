<#
.SYNOPSIS
    Connects to an FTP server over TLS, uploads a file, lists it, downloads it back and checks the hash.

.DESCRIPTION
    Runs in pwsh (Import-Module ./out/SecureFtp/SecureFtp.psd1 first, or put out/ on PSModulePath) and, where pwsh
    is absent, in the PowerShell engine hosted by tools/SecureFtp.Host:
        dotnet tools/SecureFtp.Host/bin/Debug/net10.0/SecureFtp.Host.dll examples/QuickStart.ps1 -ComputerName ... -UserName ... -Password ...
    It uses only the language, .NET and SecureFtp's cmdlets, so it needs nothing the hosted engine lacks.

.PARAMETER ComputerName
    The FTP server (it must offer AUTH TLS).

.PARAMETER Mechanism
    Tls (AUTH TLS, the default) or ImplicitTls.

.PARAMETER CertificateThumbprint
    The server certificate's SHA-256 fingerprint, for a server whose certificate no public CA signed.
#>
param(
    [Parameter(Mandatory)] [string] $ComputerName,
    [int] $Port = 21,
    [Parameter(Mandatory)] [string] $UserName,
    [Parameter(Mandatory)] [string] $Password,
    [string] $Mechanism = 'Tls',
    [string] $CertificateThumbprint
)
$ErrorActionPreference = 'Stop'
Import-Module SecureFtp

$secure = [System.Security.SecureString]::new()
foreach ($c in $Password.ToCharArray()) { $secure.AppendChar($c) }
$connect = @{ ComputerName = $ComputerName; Port = $Port; Credential = [pscredential]::new($UserName, $secure); Mechanism = $Mechanism }
if ($CertificateThumbprint) { $connect.CertificateThumbprint = $CertificateThumbprint }
$session = Connect-SecureFtp @connect
"Connected to $($session.ComputerName) with $($session.Mechanism) $($session.ProtocolVersion) $($session.Cipher); data protection $($session.DataProtection)."

$work = [System.IO.Directory]::CreateTempSubdirectory('secureftp-quickstart-').FullName
try {
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
    Disconnect-SecureFtp -Session $session
    [System.IO.Directory]::Delete($work, $true)
}
