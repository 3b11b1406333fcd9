@{
    RootModule             = 'SecureFtp.psm1'
    ModuleVersion          = '0.1.0'
    CompatiblePSEditions   = @('Core', 'Desktop')
    GUID                   = '5b0c7f1e-3f7a-4f7e-9a53-6f1d2a9c8e41'
    Author                 = 'SecureFtp contributors'
    CompanyName            = 'SecureFtp'
    Copyright              = '(c) SecureFtp contributors. MIT License.'
    Description            = 'FTP with every security mechanism: FTP over TLS (RFC 4217, AUTH TLS/SSL, implicit), RFC 2228 with X-SafeTP1 and KEA-SKIPJACK, a trust store, and an embedded server and SafeTP proxy.'
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @('SecureFtp.Format.ps1xml')
    TypesToProcess         = @('SecureFtp.Types.ps1xml')
    FunctionsToExport      = @()
    CmdletsToExport        = @(
        'Connect-SecureFtp'
        'Disconnect-SecureFtp'
        'Get-SecureFtpSession'
        'Get-FtpChildItem'
        'Receive-FtpFile'
        'Send-FtpFile'
        'Set-FtpProtection'
        'Invoke-FtpCommand'
        'Remove-FtpItem'
        'New-FtpDirectory'
        'Rename-FtpItem'
        'Test-FtpPath'
        'Get-FtpFileHash'
        'Start-SecureFtpServer'
        'Stop-SecureFtpServer'
        'Get-SecureFtpServer'
        'Start-SecureFtpClientProxy'
        'Get-SecureFtpClientProxy'
        'Stop-SecureFtpClientProxy'
        'Add-FtpTrustedKey'
        'Get-FtpTrustedKey'
        'Remove-FtpTrustedKey'
        'Test-SecureFtpServer'
        'New-SecureFtpKey'
        'Sync-FtpDirectory'
    )
    VariablesToExport      = @()
    AliasesToExport        = @()
    # What the package holds beside the binaries' dependencies (build.ps1 -Task Package checks each exists).
    FileList               = @(
        'SecureFtp.psd1'
        'SecureFtp.psm1'
        'SecureFtp.Format.ps1xml'
        'SecureFtp.Types.ps1xml'
        'LICENSE'
        'CHANGELOG.md'
        'en-US/SecureFtp.dll-Help.xml'
        'en-US/about_SecureFtp.help.txt'
        'bin/net8.0/SecureFtp.LoadContext.dll'
        'bin/net8.0/deps/SecureFtp.dll'
        'bin/net8.0/deps/SecureFtp.Engine.dll'
        'bin/net8.0/deps/BouncyCastle.Cryptography.dll'
        'bin/netstandard2.0/SecureFtp.dll'
        'bin/netstandard2.0/SecureFtp.Engine.dll'
        'bin/netstandard2.0/BouncyCastle.Cryptography.dll'
    )
    PrivateData            = @{
        PSData = @{
            Tags         = @('FTP', 'FTPS', 'TLS', 'RFC4217', 'RFC2228', 'SafeTP', 'Security', 'FileTransfer', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/secureftp/SecureFtp'
            LicenseUri   = 'https://github.com/secureftp/SecureFtp/blob/main/LICENSE'
            ReleaseNotes = 'See CHANGELOG.md in the module folder.'
        }
    }
}
