using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Another module's BouncyCastle, already loaded when SecureFtp is imported, must not be the one SecureFtp
/// uses. Runs in a fresh process (tools/SecureFtp.Host) as a user's PowerShell would: loading a second
/// BouncyCastle into this test process would change what every other test binds to.</summary>
public class ModuleIsolationTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>
{
    private static string HostProgram => Path.Combine(HostedPowerShell.RepositoryRoot, "tools", "SecureFtp.Host", "bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "SecureFtp.Host.dll");

    /// <summary>NuGet here has only the BouncyCastle version the engine uses, so "another module's copy" is an
    /// assembly with BouncyCastle's name, an older version (1.9.0.0) and one of its public type names: the
    /// assembly a default-context bind of BouncyCastle.Cryptography would then find instead of ours.</summary>
    private static string WriteOtherBouncyCastle(string folder)
    {
        var name = new AssemblyName("BouncyCastle.Cryptography") { Version = new Version(1, 9, 0, 0) };
        var builder = new PersistedAssemblyBuilder(name, typeof(object).Assembly);
        var module = builder.DefineDynamicModule("BouncyCastle.Cryptography.dll");
        module.DefineType("Org.BouncyCastle.Crypto.Digests.Sha256Digest", TypeAttributes.Public | TypeAttributes.Class).CreateType();
        string path = Path.Combine(folder, "BouncyCastle.Cryptography.dll");
        builder.Save(path);
        return path;
    }

    [SkippableFact]
    public void Module_works_with_a_different_BouncyCastle_already_loaded()
    {
        server.Require();
        string work = Directory.CreateTempSubdirectory("secureftp-isolation-").FullName;
        try
        {
            string other = WriteOtherBouncyCastle(work);
            string script = Path.Combine(work, "isolation.ps1");
            File.WriteAllText(script, """
                param($OtherBouncyCastle, $ComputerName, $Port, $User, $Password, $Thumbprint)
                $ErrorActionPreference = 'Stop'
                $theirs = [System.Reflection.Assembly]::LoadFrom($OtherBouncyCastle)
                "default:$($theirs.GetName().Version)"
                Import-Module SecureFtp
                $secure = [System.Security.SecureString]::new(); foreach ($c in $Password.ToCharArray()) { $secure.AppendChar($c) }
                $session = Connect-SecureFtp -ComputerName $ComputerName -Port ([int]$Port) -Credential ([pscredential]::new($User, $secure)) -Mechanism Tls -CertificateThumbprint $Thumbprint
                "mechanism:$($session.Mechanism)"
                "listed:$(@(Get-FtpChildItem -Path /).Count -ge 0)"
                $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($session.GetType().Assembly)
                $ours = $context.LoadFromAssemblyName([System.Reflection.AssemblyName]'BouncyCastle.Cryptography')
                "module:$($ours.Location)"
                "distinct:$(-not [object]::ReferenceEquals($ours, $theirs))"
                $digest = [Activator]::CreateInstance($ours.GetType('Org.BouncyCastle.Crypto.Digests.Sha256Digest', $true))
                "digestSize:$($digest.GetDigestSize())"
                Disconnect-SecureFtp
                """);
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { HostProgram, script, "-OtherBouncyCastle", other, "-ComputerName", server.Host, "-Port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-User", server.User, "-Password", server.Password, "-Thumbprint", server.CertificateThumbprint! })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(120_000), "the host did not finish");
            var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stdout.Result} {stderr.Result}");
            Assert.Contains("default:1.9.0.0", lines);
            Assert.Contains("mechanism:TLS", lines);
            Assert.Contains("listed:True", lines);
            Assert.Contains("module:" + Path.Combine(HostedPowerShell.ModuleDirectory, "bin", "net8.0", "deps", "BouncyCastle.Cryptography.dll"), lines);
            Assert.Contains("distinct:True", lines);
            Assert.Contains("digestSize:32", lines);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
