using System.Management.Automation;
using System.Management.Automation.Language;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>Runs the help examples that need no server outside the test suite: each one against the test vsftpd,
/// in a fresh runspace with a current TLS session and the files the examples name (/reports, /incoming, /archive,
/// ./upload.zip, ./outgoing, $credential for the test login). Examples naming an outside host, prompting (-Confirm, Get-Credential) or using a
/// command the hosted engine lacks (Get-ChildItem, Get-Date, Format-List...) are listed and left out.</summary>
public class HelpExampleTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>
{
    public static IEnumerable<object[]> Examples()
    {
        using var ps = new HostedPowerShell();
        var examples = ps.Run("""
            foreach ($name in (Get-Command -Module SecureFtp).Name) {
                $i = 0
                foreach ($example in @((Get-Help -Name $name -Full).examples.example)) { $i++; "$name|$i|$($example.code)" }
            }
            """).ThrowOnError().Output.Select(o => o.ToString().Split('|', 3)).ToList();
        var available = ps.Run("(Get-Command -CommandType Cmdlet, Function, Alias).Name").ThrowOnError().Output.Select(o => o.ToString()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return examples.Where(e => Runnable(e[2], available)).Select(e => new object[] { e[0], int.Parse(e[1], System.Globalization.CultureInfo.InvariantCulture), e[2] }).ToList();
    }

    private static bool Runnable(string code, HashSet<string> available)
    {
        // Outside hosts, prompts, and listeners beyond loopback (the tests use 127.0.0.1 only) are not run.
        if (new[] { "contoso", "-Confirm", "0.0.0.0" }.Any(t => code.Contains(t, StringComparison.OrdinalIgnoreCase))) return false;
        var ast = Parser.ParseInput(code, out _, out var errors);
        if (errors.Length > 0) throw new InvalidOperationException($"A help example does not parse: {code}");
        return ast.FindAll(a => a is CommandAst, true).Cast<CommandAst>().All(c => c.GetCommandName() is string n && available.Contains(n));
    }

    [Fact]
    public void Most_cmdlets_have_an_example_that_runs_here()
    {
        var cmdlets = Examples().Select(e => (string)e[0]).Distinct().Count();
        Assert.True(cmdlets >= 14, $"only {cmdlets} cmdlets have an example that runs against the test server");
    }

    [SkippableTheory]
    [MemberData(nameof(Examples))]
    public void Example_runs_without_errors(string cmdlet, int number, string code)
    {
        server.Require();
        string local = Directory.CreateTempSubdirectory("secureftp-example-").FullName;
        try
        {
            PrepareWorld(local);
            using var ps = new HostedPowerShell();
            ps.Run("""
                $credential = $testCredential
                $null = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $testCredential -Mechanism Tls -CertificateThumbprint $thumbprint
                $null = $ExecutionContext.SessionState.Path.SetLocation($local)
                """, ("hostName", server.Host), ("port", server.Port), ("testCredential", CmdletSessionTests.Credential(server.User, server.Password)), ("thumbprint", server.CertificateThumbprint), ("local", local)).ThrowOnError();
            var result = ps.Run(code);
            ps.Run("Get-SecureFtpServer | Stop-SecureFtpServer").ThrowOnError();
            Assert.True(result.Terminating == null && result.Errors.Count == 0,
                $"{cmdlet} example {number} failed: {result.Terminating?.Message} {string.Join("; ", result.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e))}");
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }

    private void PrepareWorld(string local)
    {
        foreach (var dir in new[] { "reports", "incoming", "archive" })
            if (Directory.Exists(server.LocalPath(dir))) Directory.Delete(server.LocalPath(dir), recursive: true);
        server.CreateFile("reports/daily.csv", 2048);
        server.CreateFile("reports/2024/jan.csv", 100);
        server.CreateFile("reports/2024/feb.csv", 200);
        foreach (var dir in new[] { "incoming", "archive" })
        {
            Directory.CreateDirectory(server.LocalPath(dir));
            PeerUser.GiveOwnership(server.LocalPath(dir));
        }
        PeerUser.GiveOwnership(server.LocalPath("reports"));
        PeerUser.GiveOwnership(server.LocalPath("reports/2024"));
        File.WriteAllBytes(Path.Combine(local, "upload.zip"), new byte[4096]);
        Directory.CreateDirectory(Path.Combine(local, "outgoing"));
        File.WriteAllText(Path.Combine(local, "outgoing", "a.txt"), "a");
    }
}
