BeforeDiscovery {
    # Discovery runs before BeforeAll: read the cmdlet names from the manifest, so the -ForEach lists are never empty.
    $manifestPath = Join-Path $PSScriptRoot '..' '..' 'SecureFtp.psd1'
    $cmdlets = (Import-PowerShellDataFile $manifestPath).CmdletsToExport
}
BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'The SecureFtp module' {
    It 'has a valid manifest' {
        { Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop } | Should -Not -Throw
    }

    It 'exports exactly the cmdlets its manifest names' {
        $exported = (Get-Command -Module SecureFtp -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ((Import-PowerShellDataFile $ModuleManifest).CmdletsToExport | Sort-Object)
    }

    It 'has help with a synopsis, a description and two examples for <_>' -ForEach $cmdlets {
        $help = Get-Help -Name $_ -Full
        $help.Synopsis | Should -Not -BeLike "$_*"
        $help.description | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'has a Pester file for <_>' -ForEach $cmdlets {
        Test-Path (Join-Path $PSScriptRoot "$_.Tests.ps1") | Should -BeTrue
    }

    It 'has the about topic' {
        (Get-Help about_SecureFtp | Out-String) | Should -Match 'SecureFtp'
    }
}
