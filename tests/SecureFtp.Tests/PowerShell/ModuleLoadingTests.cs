using System.Management.Automation;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The built module loads as a user loads it, exports what the manifest says, and keeps its engine and
/// BouncyCastle in its own load context.</summary>
public class ModuleLoadingTests
{
    private static readonly string[] ExpectedCmdlets =
    {
        "Connect-SecureFtp", "Disconnect-SecureFtp", "Get-SecureFtpSession", "Get-FtpChildItem", "Receive-FtpFile",
        "Send-FtpFile", "Set-FtpProtection", "Invoke-FtpCommand", "Remove-FtpItem", "New-FtpDirectory",
        "Rename-FtpItem", "Test-FtpPath", "Get-FtpFileHash", "Start-SecureFtpServer", "Stop-SecureFtpServer", "Get-SecureFtpServer",
        "Start-SecureFtpClientProxy", "Get-SecureFtpClientProxy", "Stop-SecureFtpClientProxy",
        "Add-FtpTrustedKey", "Get-FtpTrustedKey", "Remove-FtpTrustedKey", "Test-SecureFtpServer", "New-SecureFtpKey",
        "Sync-FtpDirectory",
    };

    [Fact]
    public void Import_exports_exactly_the_manifest_cmdlets()
    {
        using var ps = new HostedPowerShell();
        var names = ps.Run("(Get-Command -Module SecureFtp).Name").ThrowOnError().Output.Select(o => o.ToString()).ToHashSet();
        Assert.Equal(ExpectedCmdlets.OrderBy(n => n), names.OrderBy(n => n));
    }

    [Fact]
    public void Manifest_is_valid_and_declares_editions_formats_types_and_links()
    {
        using var ps = new HostedPowerShell(importModule: false);
        var manifest = (PSModuleInfo)ps.Run("Test-ModuleManifest -Path $path", ("path", HostedPowerShell.ModuleManifest)).ThrowOnError().Single()!;
        Assert.Contains("Core", manifest.CompatiblePSEditions);
        Assert.Contains("Desktop", manifest.CompatiblePSEditions);
        Assert.Equal(ExpectedCmdlets.OrderBy(n => n), manifest.ExportedCmdlets.Keys.OrderBy(n => n));
        Assert.Contains(manifest.ExportedFormatFiles, f => f.EndsWith("SecureFtp.Format.ps1xml", StringComparison.Ordinal));
        Assert.Contains(manifest.ExportedTypeFiles, f => f.EndsWith("SecureFtp.Types.ps1xml", StringComparison.Ordinal));
        Assert.NotNull(manifest.ProjectUri);
        Assert.Contains("FTPS", manifest.Tags);
        // One version everywhere: the assemblies take theirs from the manifest.
        var assemblyVersion = ps.Run("Import-Module $path -PassThru | Out-Null; [SecureFtp.PowerShell.FtpSession].Assembly.GetName().Version.ToString(3)",
            ("path", HostedPowerShell.ModuleManifest)).ThrowOnError().Single();
        Assert.Equal(manifest.Version.ToString(3), assemblyVersion);
    }

    [Fact]
    public void Engine_and_BouncyCastle_load_into_the_module_private_context()
    {
        using var ps = new HostedPowerShell();
        var contexts = ps.Run("""
            $cmdlets = [SecureFtp.PowerShell.FtpSession].Assembly
            $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($cmdlets)
            $engine = $context.LoadFromAssemblyName([System.Reflection.AssemblyName]'SecureFtp.Engine')
            $bc = $context.LoadFromAssemblyName([System.Reflection.AssemblyName]'BouncyCastle.Cryptography')
            $context.Name
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($bc).Name
            $bc.Location
            """).ThrowOnError().Output.Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "SecureFtp", "SecureFtp", "SecureFtp" }, contexts.Take(3));
        Assert.StartsWith(Path.Combine(HostedPowerShell.ModuleDirectory, "bin", "net8.0", "deps"), contexts[3]);
    }

    [Fact]
    public void Reimport_with_Force_keeps_the_cmdlets()
    {
        using var ps = new HostedPowerShell();
        var count = ps.Run("Import-Module $path -Force; (Get-Command -Module SecureFtp).Count", ("path", HostedPowerShell.ModuleManifest)).ThrowOnError().Single();
        Assert.Equal(ExpectedCmdlets.Length, count);
    }
}
