# The module as users install it: build.ps1 -Task Package makes out/package/SecureFtp.<version>.nupkg (build.ps1
# -Task Test makes it before running Pester). Save-PSResource takes it from a local file repository into a temporary
# folder, and a fresh pwsh with only that folder (and pwsh's own) on PSModulePath imports SecureFtp by name.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $repositoryRoot = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    $manifest = Import-PowerShellDataFile (Join-Path $repositoryRoot 'SecureFtp.psd1')
    $package = Join-Path $repositoryRoot 'out' 'package' "SecureFtp.$($manifest.ModuleVersion).nupkg"
    if (-not (Test-Path $package)) { throw "$package is missing: run ./build.ps1 -Task Package (build.ps1 -Task Test does)." }
}

Describe 'The SecureFtp package' {
    It 'holds every file the manifest names' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        $named = @($manifest.FileList) + $manifest.RootModule + $manifest.FormatsToProcess + $manifest.TypesToProcess
        foreach ($file in $named) { $entries | Should -Contain $file -Because "the manifest names $file" }
    }

    It 'installs with Save-PSResource from a local repository and imports by name with its help and formats' {
        $work = [IO.Directory]::CreateTempSubdirectory('secureftp-package-').FullName
        try {
            $repository = New-Item -ItemType Directory -Path (Join-Path $work 'repository')
            $installed = New-Item -ItemType Directory -Path (Join-Path $work 'modules')
            Copy-Item $package $repository
            $script = Join-Path $work 'roundtrip.ps1'
            Set-Content $script @'
param($Repository, $Installed)
$ErrorActionPreference = 'Stop'
$name = "SecureFtpPester$PID"
Register-PSResourceRepository -Name $name -Uri $Repository -Trusted
try { Save-PSResource -Name SecureFtp -Repository $name -Path $Installed -TrustRepository -Quiet }
finally { Unregister-PSResourceRepository -Name $name }
# Only the install folder and pwsh's own modules: nothing from the repository's out/ can answer.
$env:PSModulePath = (@($Installed) + @($env:PSModulePath -split [IO.Path]::PathSeparator | Where-Object { $_ -like "$PSHOME*" })) -join [IO.Path]::PathSeparator
Import-Module SecureFtp
$module = Get-Module SecureFtp
[pscustomobject]@{
    ModuleBase = $module.ModuleBase
    Version    = "$($module.Version)"
    Cmdlets    = @($module.ExportedCmdlets.Keys).Count
    Synopsis   = (Get-Help Connect-SecureFtp).Synopsis
    About      = [bool](Get-Help about_SecureFtp -ErrorAction SilentlyContinue)
    Formats    = @((Get-FormatData -TypeName SecureFtp.PowerShell.FtpSession).FormatViewDefinition.Name)
    License    = Test-Path (Join-Path $module.ModuleBase 'LICENSE')
    Changelog  = Test-Path (Join-Path $module.ModuleBase 'CHANGELOG.md')
} | ConvertTo-Json -Compress
'@
            $process = [Environment]::ProcessPath
            $arguments = @()
            if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { $arguments += Join-Path $PSHOME 'pwsh.dll' }
            $arguments += '-NoProfile', '-NonInteractive', '-File', $script, $repository.FullName, $installed.FullName
            $output = & $process @arguments 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
            $json = @($output | Where-Object { "$_".StartsWith('{"ModuleBase"') })
            $json.Count | Should -Be 1 -Because ($output -join "`n")
            $result = $json[0] | ConvertFrom-Json
            $result.ModuleBase | Should -BeLike "$($installed.FullName)*"
            $result.Version | Should -Be $manifest.ModuleVersion
            $result.Cmdlets | Should -Be $manifest.CmdletsToExport.Count
            $result.Synopsis | Should -Not -BeLike 'Connect-SecureFtp*'
            $result.About | Should -BeTrue
            $result.Formats | Should -Not -BeNullOrEmpty
            $result.License | Should -BeTrue
            $result.Changelog | Should -BeTrue
        }
        finally { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }
    }
}
