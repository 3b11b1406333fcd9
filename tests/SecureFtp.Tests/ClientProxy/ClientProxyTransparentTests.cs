using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>Issue 18, -Transparent: inside a network namespace the test creates (loopback only: the "server" is
/// 127.0.0.5), nft redirects the test login's FTP traffic to the proxy as the help's recipe says. curl, run as that
/// login, believes it talks plain FTP straight to 127.0.0.5:21; the proxy finds the original destination
/// (SO_ORIGINAL_DST) and secures the session with TLS. The server and the proxy run in the module's own host process,
/// started inside the namespace with Start-SecureFtpServer and Start-SecureFtpClientProxy -Transparent.</summary>
public sealed class ClientProxyTransparentTests : IDisposable
{
    private const string Password = "Transparent-Pw-41d7";
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-transparent-").FullName;
    private readonly string _namespace = "sftp-proxy-" + Guid.NewGuid().ToString("N")[..8];
    private bool _namespaceMade;

    public void Dispose()
    {
        if (_namespaceMade) Run("/usr/sbin/ip", "netns", "del", _namespace);
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private static ProcessResult Run(string executable, params string[] arguments)
        => ExternalProcess.RunAsync(executable, arguments, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    private Task<ProcessResult> CurlAsLegacyUserAsync(string standardInput, params string[] arguments)
        => ExternalProcess.RunAsync("/usr/sbin/ip",
            new[] { "netns", "exec", _namespace, "runuser", "-u", PeerUser.Name, "--", "/usr/bin/curl", "--silent", "--show-error", "--fail", "--max-time", "60" }.Concat(arguments),
            TimeSpan.FromMinutes(2), standardInput);

    [SkippableFact]
    public async Task A_client_that_believes_it_talks_to_the_server_is_secured_transparently()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) Peer.Unavailable("transparent mode needs Linux and root (ip netns, nft).");
        foreach (var tool in new[] { "/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/runuser", "/usr/bin/curl" })
            if (!File.Exists(tool)) Peer.Unavailable($"{tool} is missing; run tests/peers/install.sh as root.");
        var ids = PeerUser.TryGetIds();
        if (ids == null) Peer.Unavailable($"the test login '{PeerUser.Name}' does not exist; run tests/peers/install.sh as root.");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string host = Path.Combine(HostedPowerShell.RepositoryRoot, "tools", "SecureFtp.Host", "bin", configuration, "net10.0", "SecureFtp.Host.dll");
        if (!File.Exists(host)) Peer.Unavailable($"{host} is not built.");

        // The namespace: its own loopback, and the two rules of the help's recipe for the legacy user only.
        var made = Run("/usr/sbin/ip", "netns", "add", _namespace);
        Assert.True(made.ExitCode == 0, made.ToString());
        _namespaceMade = true;
        Assert.Equal(0, Run("/usr/sbin/ip", "netns", "exec", _namespace, "ip", "link", "set", "lo", "up").ExitCode);
        string rules = Path.Combine(_work, "redirect.nft");
        File.WriteAllText(rules, $$"""
            table ip secureftp {
              chain out {
                type nat hook output priority -100;
                meta skuid {{ids!.Value.Uid}} ip daddr 127.0.0.5 tcp dport 21 redirect to :2121
                meta skuid {{ids.Value.Uid}} ip daddr 127.0.0.5 tcp dport != 21 redirect
              }
            }
            """);
        var nft = Run("/usr/sbin/ip", "netns", "exec", _namespace, "nft", "-f", rules);
        Assert.True(nft.ExitCode == 0, nft.ToString());

        string root = Directory.CreateDirectory(Path.Combine(_work, "root")).FullName;
        var served = RandomNumberGenerator.GetBytes(1024 * 1024 + 3);
        File.WriteAllBytes(Path.Combine(root, "served.bin"), served);
        File.WriteAllText(Path.Combine(root, "hello.txt"), "hello through a transparent proxy");
        string script = Path.Combine(_work, "world.ps1");
        File.WriteAllText(script, """
            $pw = [System.Security.SecureString]::new(); foreach ($c in $env:SFTP_PASSWORD.ToCharArray()) { $pw.AppendChar($c) }
            $cred = [pscredential]::new('alice', $pw)
            $s = Start-SecureFtpServer -Root $env:SFTP_ROOT -ListenAddress 127.0.0.5 -Port 21 -Credential $cred
            $p = Start-SecureFtpClientProxy -Transparent -Port 2121 -Mechanism Tls -CertificateThumbprint $s.CertificateThumbprint
            "READY $($p.Mode)"
            $null = [Console]::In.ReadLine()
            "sessions=$($p.TotalSessions) transfers=$($p.TransfersCompleted) aborted=$($p.TransfersAborted) refused=$($p.Refusals)"
            foreach ($entry in $p.RecentLog) { $entry.ToString() }
            $p | Stop-SecureFtpClientProxy
            $s | Stop-SecureFtpServer
            "DONE"
            """);
        var start = new ProcessStartInfo("/usr/sbin/ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _namespace, "dotnet", host, "-Module", Path.Combine(HostedPowerShell.RepositoryRoot, "out"), "-Command", $"& {{ . '{script}' }}" })
            start.ArgumentList.Add(a);
        start.Environment["SFTP_ROOT"] = root;
        start.Environment["SFTP_PASSWORD"] = Password;
        using var world = Process.Start(start)!;
        var output = new StringBuilder();
        var ready = new TaskCompletionSource();
        world.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.StartsWith("READY", StringComparison.Ordinal)) ready.TrySetResult();
        };
        world.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine("stderr: " + e.Data); };
        world.BeginOutputReadLine();
        world.BeginErrorReadLine();
        try
        {
            await Task.WhenAny(ready.Task, world.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
            Assert.True(ready.Task.IsCompleted, "the server and the proxy did not start:\n" + output);
            Assert.Contains("READY Transparent", output.ToString());

            // Downloads: EPSV (curl's default), PASV (the proxy announces the original destination), active (PORT).
            var epsv = await CurlAsLegacyUserAsync("", $"ftp://alice:{Password}@127.0.0.5/hello.txt");
            Assert.True(epsv.ExitCode == 0, $"{epsv}\n{output}");
            Assert.Equal("hello through a transparent proxy", epsv.StandardOutput);
            var pasv = await CurlAsLegacyUserAsync("", "--disable-epsv", $"ftp://alice:{Password}@127.0.0.5/hello.txt");
            Assert.True(pasv.ExitCode == 0, $"{pasv}\n{output}");
            Assert.Equal("hello through a transparent proxy", pasv.StandardOutput);
            var active = await CurlAsLegacyUserAsync("", "--ftp-port", "127.0.0.1", $"ftp://alice:{Password}@127.0.0.5/hello.txt");
            Assert.True(active.ExitCode == 0, $"{active}\n{output}");
            Assert.Equal("hello through a transparent proxy", active.StandardOutput);
            // An upload from standard input, and a listing.
            var upload = await CurlAsLegacyUserAsync("uploaded through the proxy", "-T", "-", $"ftp://alice:{Password}@127.0.0.5/up.txt");
            Assert.True(upload.ExitCode == 0, $"{upload}\n{output}");
            Assert.Equal("uploaded through the proxy", File.ReadAllText(Path.Combine(root, "up.txt")));
            var list = await CurlAsLegacyUserAsync("", $"ftp://alice:{Password}@127.0.0.5/");
            Assert.True(list.ExitCode == 0, $"{list}\n{output}");
            Assert.Contains("served.bin", list.StandardOutput);

            await world.StandardInput.WriteLineAsync("stop");
            await world.StandardInput.FlushAsync();
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                await world.WaitForExitAsync(limit.Token);
            string text;
            lock (output) text = output.ToString();
            Assert.Contains("sessions=5 transfers=5 aborted=0 refused=0", text);
            Assert.Contains("Upstream 127.0.0.5:21: TLS", text);
            Assert.Contains("data protection Private", text);
            Assert.DoesNotContain(Password, text);
        }
        finally
        {
            if (!world.HasExited) world.Kill(entireProcessTree: true);
        }
    }
}
