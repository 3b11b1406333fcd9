using System.Net;
using SecureFtp;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Client;

/// <summary>Client behaviour against a real plain-FTP vsftpd: the fallback policy, PASV addresses, active mode,
/// cancellation and local write failures.</summary>
public class PlainSessionTests(PlainVsftpdFixture server) : IClassFixture<PlainVsftpdFixture>
{
    private FtpClientOptions Options(params FtpMechanism[] mechanisms)
    {
        server.Require();
        var o = server.ClientOptions(FtpServerFixture.HostName == "" ? server.Host : server.Host);
        o.Mechanisms = mechanisms.ToList();
        o.DataProtection = null;
        return o;
    }

    [SkippableFact]
    public async Task WarnPolicyWarnsAndGoesOnInCleartext()
    {
        var o = Options(FtpMechanism.Tls);
        o.FallbackPolicy = FallbackPolicy.Warn;
        var warnings = new List<string>();
        o.Warning = warnings.Add;
        using var client = await FtpClient.ConnectAsync(o);
        Assert.Equal("None", client.Security.Mechanism);
        Assert.Single(warnings);
        Assert.Contains("CLEARTEXT", warnings[0]);
        Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
    }

    [SkippableFact]
    public async Task AllowPolicyGoesOnQuietly()
    {
        var o = Options(FtpMechanism.Tls);
        o.FallbackPolicy = FallbackPolicy.Allow;
        var warnings = new List<string>();
        o.Warning = warnings.Add;
        using var client = await FtpClient.ConnectAsync(o);
        Assert.Equal("None", client.Security.Mechanism);
        Assert.Empty(warnings);
    }

    [SkippableFact]
    public async Task ExplicitPrivateProtectionIsRefusedInCleartext()
    {
        var o = Options(FtpMechanism.Tls);
        o.FallbackPolicy = FallbackPolicy.Allow;
        o.DataProtection = SecureFtp.Security.DataProtectionLevel.Private;
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(o));
        Assert.Equal("DataProtectionUnavailable", e.ErrorId);
    }

    [SkippableFact]
    public async Task CoercedFallbackIsRefusedForAHostInTheTrustStore()
    {
        var o = Options(FtpMechanism.Tls);
        o.FallbackPolicy = FallbackPolicy.Allow;
        string store = Directory.CreateTempSubdirectory("trust-").FullName;
        try
        {
            new SecureFtp.Trust.FileTrustStore(store).Add(SecureFtp.Trust.TrustedKey.FromPublicKey(o.Host, o.Port, "TLS", new byte[] { 1, 2, 3 }, null, "OutOfBand"));
            o.TrustStorePath = store;
            var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(o));
            Assert.Equal("CoercedFallbackRefused", e.ErrorId);
            Assert.Equal(FtpErrorKind.Policy, e.Kind);
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableFact]
    public async Task PasvAddressOfAnotherHostIsNotFollowed()
    {
        var o = Options(FtpMechanism.None);
        o.UseExtendedPassive = false;
        var verbose = new List<string>();
        o.Verbose = verbose.Add;
        var file = server.CreateFile("pasv/one.bin", 70_000);
        using var client = await FtpClient.ConnectAsync(o);
        var ms = new MemoryStream();
        await client.DownloadAsync(file.RemotePath, ms);
        Assert.Equal(file.Length, ms.Length);
        Assert.Contains(verbose, v => v.Contains(PlainVsftpdFixture.AnnouncedPasvAddress));
    }

    [SkippableFact]
    public async Task ActiveModeRoundTrip()
    {
        var o = Options(FtpMechanism.None);
        o.DataConnectionMode = DataConnectionMode.Active;
        using var client = await FtpClient.ConnectAsync(o);
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        string remote = server.RemotePath("active-" + Guid.NewGuid().ToString("N")[..6] + ".bin");
        await client.UploadAsync(new MemoryStream(data), remote);
        var back = new MemoryStream();
        await client.DownloadAsync(remote, back);
        Assert.Equal(data, back.ToArray());
        Assert.Contains(await client.ListAsync(server.RemotePath("")), i => i.FullName.EndsWith(Path.GetFileName(remote), StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task CancelledDownloadLeavesNoFinalFileAndTheSessionUsable()
    {
        var file = server.CreateFile("cancel/big.bin", 64L * 1024 * 1024);
        using var client = await FtpClient.ConnectAsync(Options(FtpMechanism.None));
        string dir = Directory.CreateTempSubdirectory("cancel-").FullName;
        string target = Path.Combine(dir, "big.bin");
        using var cts = new CancellationTokenSource();
        // The first report comes with the first block, synchronously: the next read then sees the cancellation.
        var progress = new SyncProgress(p => { if (p.BytesTransferred > 0) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DownloadFileAsync(file.RemotePath, target, progress: progress, ct: cts.Token));
        Assert.False(File.Exists(target), "the final name must not exist after a cancelled download");
        Assert.True(File.Exists(target + ".part"));
        Assert.True(new FileInfo(target + ".part").Length < file.Length);
        // The session is still in step: a command and a transfer work, and -Resume completes the file.
        Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
        var result = await client.DownloadFileAsync(file.RemotePath, target, resume: true);
        Assert.True(result.Resumed);
        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(target));
        Directory.Delete(dir, true);
    }

    [SkippableFact]
    public async Task FullDiskIsALocalIoErrorAndNothingTakesTheFinalName()
    {
        Skip.IfNot(File.Exists("/dev/full"), "/dev/full is needed to simulate a full disk");
        var file = server.CreateFile("full/f.bin", 2_000_000);
        using var client = await FtpClient.ConnectAsync(Options(FtpMechanism.None));
        string dir = Directory.CreateTempSubdirectory("full-").FullName;
        string target = Path.Combine(dir, "f.bin");
        File.CreateSymbolicLink(target + ".part", "/dev/full"); // every write to the .part fails with ENOSPC
        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadFileAsync(file.RemotePath, target, resume: false, overwrite: true));
        Assert.Equal(FtpErrorKind.LocalIo, e.Kind);
        Assert.Contains("f.bin", e.Message);
        Assert.False(File.Exists(target));
        Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
        Directory.Delete(dir, true);
    }

    [SkippableFact]
    public async Task ExistingLocalFileIsNotOverwrittenWithoutForce()
    {
        var file = server.CreateFile("exists/f.bin", 10);
        using var client = await FtpClient.ConnectAsync(Options(FtpMechanism.None));
        string target = Path.Combine(Directory.CreateTempSubdirectory("exists-").FullName, "f.bin");
        File.WriteAllText(target, "keep me");
        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadFileAsync(file.RemotePath, target));
        Assert.Equal(FtpErrorKind.AlreadyExists, e.Kind);
        Assert.Equal("keep me", File.ReadAllText(target));
    }

    [SkippableFact]
    public async Task MissingRemoteFileIsNotFound()
    {
        using var client = await FtpClient.ConnectAsync(Options(FtpMechanism.None));
        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadAsync(server.RemotePath("no-such-file"), new MemoryStream()));
        Assert.Equal(FtpErrorKind.NotFound, e.Kind);
        Assert.Null(await client.GetItemAsync(server.RemotePath("no-such-file")));
    }

    /// <summary>Progress that runs the callback synchronously on the reporting thread (Progress&lt;T&gt; posts).</summary>
    private sealed class SyncProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}

/// <summary>The Refuse policy, alone against its own vsftpd so the server's log holds this one session.</summary>
public class RefusePolicyTests(PlainVsftpdFixture server) : IClassFixture<PlainVsftpdFixture>
{
    [SkippableFact]
    public async Task RefusePolicyStopsBeforeAnyCredentialIsSent()
    {
        server.Require();
        var o = server.ClientOptions(server.Host);
        o.Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls };
        o.DataProtection = null;
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(o));
        Assert.Equal(FtpErrorKind.Policy, e.Kind);
        Assert.Equal("SecurityNotAvailable", e.ErrorId);
        Assert.Contains("No credential was sent", e.Message);
        await Task.Delay(300); // let vsftpd flush its log
        var commands = server.LoggedCommands().ToList();
        Assert.Contains(commands, l => l.Contains("AUTH TLS"));
        Assert.DoesNotContain(commands, l => l.Contains("\"USER") || l.Contains("\"PASS"));
    }
}
