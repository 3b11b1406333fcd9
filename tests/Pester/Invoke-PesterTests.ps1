<#
.SYNOPSIS
    Runs the Pester tests (tests/Pester) and the compliance example (examples/Compliance.Tests.ps1) against the built
    module; build.ps1 -Task Test starts it in a fresh pwsh with out/ and the pinned Pester on PSModulePath.

.DESCRIPTION
    The compliance example needs a server to judge: it runs against the module's embedded server started with the
    policy a compliant site has (-RequireProtectedData), and, where vsftpd is installed (tests/peers/install.sh),
    against vsftpd configured strictly. Writes the counts to -SummaryPath (JSON) and exits 1 when a test failed.
#>
param(
    [Parameter(Mandatory)] [string] $SummaryPath,
    # Files or folders to run instead of everything (comma-separated from build.ps1 -PesterPath).
    [string[]] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module Pester -RequiredVersion 5.7.1
. (Join-Path $PSScriptRoot 'TestSetup.ps1')

$containers = [Collections.Generic.List[object]]::new()
$servers = [Collections.Generic.List[object]]::new()
try {
    if ($Path) {
        foreach ($p in $Path -split ',') { $containers.AddRange(@(New-PesterContainer -Path $p)) }
    }
    else {
        $example = Join-Path $PSScriptRoot '..' '..' 'examples' 'Compliance.Tests.ps1'
        $embedded = Start-TestServer -RequireProtectedData
        $servers.Add($embedded)
        $containers.Add((New-PesterContainer -Path $example -Data @{
                    ComputerName = $embedded.ComputerName; Port = $embedded.Port; Credential = $embedded.Credential
                    CertificateThumbprint = $embedded.CertificateThumbprint; CertificatePinned = $true
                }))
        if (Test-VsftpdAvailable) {
            $vsftpd = Start-TestServer -Vsftpd -RequireProtectedData
            $servers.Add($vsftpd)
            $containers.Add((New-PesterContainer -Path $example -Data @{
                        ComputerName = $vsftpd.ComputerName; Port = $vsftpd.Port; Credential = $vsftpd.Credential
                        CertificateThumbprint = $vsftpd.CertificateThumbprint; CertificatePinned = $true
                    }))
        }
        # After the example: some test files stop every server of the runspace when they finish.
        $containers.AddRange(@(New-PesterContainer -Path $PSScriptRoot))
    }

    $configuration = New-PesterConfiguration
    $configuration.Run.Container = [Pester.ContainerInfo[]] $containers.ToArray()
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Normal'
    $configuration.Output.RenderMode = 'Plaintext'
    $result = Invoke-Pester -Configuration $configuration
}
finally {
    foreach ($server in $servers) { $server.Stop.Invoke() }
}

$skipped = $result.SkippedCount
if ($env:CI -eq 'true' -and $skipped -gt 0) {
    # Under CI a skip means a peer is missing: that is a failure, not a pass.
    Write-Host "CI=true: $skipped skipped Pester tests count as failed." -ForegroundColor Red
}
[ordered]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount + ($env:CI -eq 'true' ? $skipped : 0)
    Skipped = $skipped + $result.NotRunCount
} | ConvertTo-Json | Set-Content -Path $SummaryPath
exit ([int]($result.Result -ne 'Passed'))
