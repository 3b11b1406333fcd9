using System.Diagnostics;
using System.Management.Automation.Language;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The repository's PowerShell scripts: they parse (where pwsh is absent nothing else would notice a
/// broken Pester file or build.ps1), and the quick start runs through tools/SecureFtp.Host as the README says.</summary>
public class ScriptTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>
{
    public static IEnumerable<object[]> Scripts() =>
        new[] { "build.ps1" }
            .Concat(Directory.GetFiles(Path.Combine(HostedPowerShell.RepositoryRoot, "tests", "Pester"), "*.ps1").Select(f => Path.GetRelativePath(HostedPowerShell.RepositoryRoot, f)))
            .Concat(Directory.GetFiles(Path.Combine(HostedPowerShell.RepositoryRoot, "examples"), "*.ps1").Select(f => Path.GetRelativePath(HostedPowerShell.RepositoryRoot, f)))
            .Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_parses(string relativePath)
    {
        Parser.ParseFile(Path.Combine(HostedPowerShell.RepositoryRoot, relativePath), out _, out var errors);
        Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
    }

    [Fact]
    public void Every_cmdlet_has_a_Pester_file()
    {
        using var ps = new HostedPowerShell();
        var cmdlets = ps.Run("(Get-Command -Module SecureFtp).Name").ThrowOnError().Output.Select(o => o.ToString());
        var missing = cmdlets.Where(c => !File.Exists(Path.Combine(HostedPowerShell.RepositoryRoot, "tests", "Pester", c + ".Tests.ps1")));
        Assert.Empty(missing);
    }

    [Fact]
    public void Quick_start_runs_against_the_embedded_server_with_no_arguments()
    {
        var (exit, output) = RunQuickStart();
        Assert.True(exit == 0, output);
        Assert.Contains("Started the embedded server", output);
        Assert.Contains("with TLS", output);
        Assert.Contains("content identical: True", output);
    }

    [SkippableFact]
    public void Quick_start_runs_in_the_hosted_engine()
    {
        server.Require();
        var (exit, output) = RunQuickStart("-ComputerName", server.Host, "-Port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-UserName", server.User, "-Password", server.Password, "-CertificateThumbprint", server.CertificateThumbprint!);
        Assert.True(exit == 0, output);
        Assert.Contains("content identical: True", output);
        Assert.Contains("with TLS", output);
        Assert.DoesNotContain(server.Password, output);
    }

    private static (int Exit, string Output) RunQuickStart(params string[] arguments)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string host = Path.Combine(HostedPowerShell.RepositoryRoot, "tools", "SecureFtp.Host", "bin", configuration, "net10.0", "SecureFtp.Host.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = HostedPowerShell.RepositoryRoot };
        foreach (var a in new[] { host, Path.Combine("examples", "QuickStart.ps1") }.Concat(arguments))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "the quick start did not finish");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
