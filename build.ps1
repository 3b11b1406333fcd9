#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, documents and packages the SecureFtp module.

.DESCRIPTION
    -Task Build    dotnet build: lays out the module at out/SecureFtp (manifest, root module, formats, help, binaries).
    -Task Test     Build, then the xunit suite (engine, interop and hosted-PowerShell cmdlet tests) and, where Pester 5
                   is installed, the Pester tests in tests/Pester against the built module in a fresh pwsh.
    -Task Docs     With PlatyPS: refreshes docs/en-US/*.md from the built module (new parameters get a stub to fill
                   in) and writes the MAML into en-US/ with New-ExternalHelp. Without PlatyPS the build already
                   produces the MAML from the same markdown (tools/SecureFtp.HelpBuilder).
    -Task Package  Build in Release and pack out/SecureFtp into a .nupkg under out/package (Publish-PSResource -Path
                   out/SecureFtp publishes it).

.EXAMPLE
    ./build.ps1 -Task Test -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$module = Join-Path $root 'out' 'SecureFtp'

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $root 'SecureFtp.sln'), '-c', $Configuration)
}

function Invoke-Test {
    Invoke-Build
    Invoke-Native dotnet @('test', (Join-Path $root 'tests' 'SecureFtp.Tests'), '-c', $Configuration, '--no-build')
    if (Get-Module -ListAvailable -Name Pester | Where-Object Version -ge '5.0') {
        # A fresh pwsh, so the module under test is the built one and nothing is left loaded here.
        $script = "Import-Module Pester -MinimumVersion 5.0; `$c = New-PesterConfiguration; `$c.Run.Path = '$(Join-Path $root 'tests' 'Pester')'; `$c.Run.Exit = `$true; `$c.Output.Verbosity = 'Detailed'; Invoke-Pester -Configuration `$c"
        Invoke-Native pwsh @('-NoProfile', '-NonInteractive', '-Command', $script)
    }
    else {
        Write-Warning 'Pester 5 is not installed: skipped tests/Pester (Install-Module Pester -MinimumVersion 5.0). The same scenarios ran in the xunit suite through the hosted engine.'
    }
}

function Invoke-Docs {
    Invoke-Build
    if (-not (Get-Module -ListAvailable -Name platyPS)) {
        throw 'PlatyPS is not installed (Install-Module platyPS). The build already makes en-US/ from docs/ without it.'
    }
    $docs = Join-Path $root 'docs' 'en-US'
    $script = @"
Import-Module '$module/SecureFtp.psd1'
Import-Module platyPS
Update-MarkdownHelpModule -Path '$docs' -RefreshModulePage:`$false -AlphabeticParamsOrder:`$false | Out-Null
New-ExternalHelp -Path '$docs' -OutputPath '$(Join-Path $root 'en-US')' -Force | Out-Null
New-ExternalHelp -Path '$(Join-Path $root 'docs' 'about_SecureFtp.md')' -OutputPath '$(Join-Path $root 'en-US')' -Force | Out-Null
"@
    Invoke-Native pwsh @('-NoProfile', '-NonInteractive', '-Command', $script)
}

function Invoke-Package {
    $script:Configuration = 'Release'
    Invoke-Build
    $packages = Join-Path $root 'out' 'package'
    New-Item -ItemType Directory -Force -Path $packages | Out-Null
    $repository = "SecureFtpLocal-$PID"
    Register-PSResourceRepository -Name $repository -Uri $packages -Trusted
    try { Publish-PSResource -Path $module -Repository $repository }
    finally { Unregister-PSResourceRepository -Name $repository }
    Get-ChildItem $packages -Filter *.nupkg
}

foreach ($step in $Task) {
    Write-Host "== $step ($Configuration)" -ForegroundColor Cyan
    & "Invoke-$step"
}
