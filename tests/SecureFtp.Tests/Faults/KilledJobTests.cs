using System.Diagnostics;
using System.Security.Cryptography;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.PowerShell;
using Xunit;
using Xunit.Abstractions;

namespace SecureFtp.Tests.Faults;

/// <summary>A PowerShell job (tools/SecureFtp.Host running Receive-FtpFile or Send-FtpFile against vsftpd over TLS,
/// PROT P) is killed with SIGKILL in the middle of a transfer, then run again with -Resume: it continues from what
/// arrived and completes, byte-identical, and nothing stood under the final local name in between. The relay stalls
/// the data at a known offset so the kill lands mid-transfer every time.</summary>
[Trait("Category", "Faults")]
public class KilledJobTests(VsftpdFixture server, ITestOutputHelper output) : IClassFixture<VsftpdFixture>
{
    private const int FileLength = 3 * 1024 * 1024 + 5;
    private const long StallAt = 1_000_000;

    private static string HostProgram => Path.Combine(HostedPowerShell.RepositoryRoot, "tools", "SecureFtp.Host", "bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "SecureFtp.Host.dll");

    private const string Script = """
        param($Direction, $ComputerName, $Port, $User, $Password, $Thumbprint, $Remote, $Local, [switch]$Resume)
        $ErrorActionPreference = 'Stop'
        Import-Module SecureFtp
        $secure = [System.Security.SecureString]::new(); foreach ($c in $Password.ToCharArray()) { $secure.AppendChar($c) }
        $null = Connect-SecureFtp -ComputerName $ComputerName -Port ([int]$Port) -Credential ([pscredential]::new($User, $secure)) -Mechanism Tls -CertificateThumbprint $Thumbprint
        if ($Direction -eq 'download') { Receive-FtpFile -Path $Remote -Destination $Local -Resume:$Resume -Force:(-not $Resume) }
        else { Send-FtpFile -Path $Local -Destination $Remote -Resume:$Resume -Force:(-not $Resume) }
        'done'
        Disconnect-SecureFtp
        """;

    [SkippableTheory]
    [InlineData("download")]
    [InlineData("upload")]
    public async Task Job_killed_mid_transfer_resumes_and_completes(string direction)
    {
        server.Require();
        Skip.IfNot(File.Exists(HostProgram) || Peer.IsCi, $"tools/SecureFtp.Host is not built ({HostProgram}); build it to run this test.");
        await using var relay = new FaultRelay(server.Port, TestCertificates.Current.Server, new Fault(FaultKind.StallData, StallAt));
        string work = Directory.CreateTempSubdirectory("secureftp-killed-").FullName;
        try
        {
            string name = $"k-{Guid.NewGuid():N}.bin";
            string remote = server.RemotePath(name);
            string local = Path.Combine(work, name);
            string expected;
            if (direction == "download") expected = server.CreateFile(name, FileLength).Sha256;
            else
            {
                var bytes = RandomNumberGenerator.GetBytes(FileLength);
                File.WriteAllBytes(local, bytes);
                expected = Convert.ToHexString(SHA256.HashData(bytes));
            }
            string script = Path.Combine(work, "job.ps1");
            File.WriteAllText(script, Script);

            // First run: killed (SIGKILL) once the transfer is stalled past StallAt.
            using (var job = Start(script, direction, relay.Port, remote, local, resume: false))
            {
                string progressFile = direction == "download" ? local + ".part" : server.LocalPath(name);
                var clock = Stopwatch.StartNew();
                while (!(File.Exists(progressFile) && new FileInfo(progressFile).Length >= StallAt))
                {
                    if (job.HasExited)
                        Assert.Fail($"the job ended before it could be killed: {job.ExitCode}\n{job.StandardOutput.ReadToEnd()}{job.StandardError.ReadToEnd()}\n{relay.Transcript}");
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "the transfer never reached the stall:\n" + relay.Transcript);
                    await Task.Delay(100);
                }
                job.Kill(); // SIGKILL on Linux: no finally blocks, no cleanup in the job
                Assert.True(job.WaitForExit(20_000), "the killed job did not end");
                output.WriteLine($"KILLED {direction} at {new FileInfo(progressFile).Length} bytes (exit {job.ExitCode})");
            }
            if (direction == "download")
            {
                Assert.False(File.Exists(local), "the killed download left a file under the final name");
                Assert.True(File.Exists(local + ".part"), "the killed download left nothing to resume");
            }

            // Second run: -Resume, through the same relay (its one fault spent).
            using (var again = Start(script, direction, relay.Port, remote, local, resume: true))
            {
                var stdout = again.StandardOutput.ReadToEndAsync();
                var stderr = again.StandardError.ReadToEndAsync();
                Assert.True(again.WaitForExit(120_000), "the resumed job did not finish");
                Assert.True(again.ExitCode == 0, $"the resumed job failed ({again.ExitCode}): {await stdout} {await stderr}\n{relay.Transcript}");
            }
            string actual = direction == "download" ? FtpServerFixture.Sha256Of(local) : FtpServerFixture.Sha256Of(server.LocalPath(name));
            Assert.Equal(expected, actual);
            Assert.False(File.Exists(local + ".part"), "a .part file left after the resumed download");
            Assert.Contains($"REST ", relay.Transcript); // the second run continued, it did not start over
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private Process Start(string script, string direction, int port, string remote, string local, bool resume)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { HostProgram, script, "-Direction", direction, "-ComputerName", server.Host, "-Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-User", server.User,
                     "-Password", server.Password, "-Thumbprint", server.CertificateThumbprint!, "-Remote", remote, "-Local", local })
            start.ArgumentList.Add(a);
        if (resume) start.ArgumentList.Add("-Resume");
        return Process.Start(start)!;
    }
}
