# Root module: loads the cmdlet assembly built for the running edition and exports its cmdlets.
# PowerShell 7 (Core): the cmdlets, the engine and BouncyCastle live in bin/net8.0/deps and are loaded into the
# module's own AssemblyLoadContext (bin/net8.0/SecureFtp.LoadContext.dll), so a different BouncyCastle loaded
# by another module never clashes with ours. Windows PowerShell 5.1 (Desktop): bin/netstandard2.0, loaded as is.
if ($PSEdition -eq 'Core') {
    if (-not ('SecureFtp.LoadContext.ModuleLoadContext' -as [type])) {
        $null = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'net8.0', 'SecureFtp.LoadContext.dll'))
    }
    $cmdletAssembly = [SecureFtp.LoadContext.ModuleLoadContext]::Initialize()
}
else {
    $cmdletAssembly = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'netstandard2.0', 'SecureFtp.dll'))
}

$innerModule = Import-Module -Assembly $cmdletAssembly -PassThru
# On a re-import PowerShell hands back the cached binary module without adding its cmdlets to this module's
# scope; add them explicitly so Import-Module -Force works.
$addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod('AddExportedCmdlet', [System.Reflection.BindingFlags]'Instance, NonPublic')
foreach ($cmdlet in $innerModule.ExportedCmdlets.Values) {
    $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
}

$ExecutionContext.SessionState.Module.OnRemove = {
    Remove-Module -ModuleInfo $innerModule -ErrorAction SilentlyContinue
}
