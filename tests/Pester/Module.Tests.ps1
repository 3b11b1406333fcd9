BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'The SecureFtp module' {
    It 'has a valid manifest' {
        { Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop } | Should -Not -Throw
    }

    It 'has help with a synopsis, a description and two examples for <_>' -ForEach (Get-Command -Module SecureFtp).Name {
        $help = Get-Help -Name $_ -Full
        $help.Synopsis | Should -Not -BeLike "$_*"
        $help.description | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }
}
