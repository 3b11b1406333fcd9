using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Interop;

/// <summary>Issue 2's interop matrix, run by the engine's public API against each real server: log in, list,
/// download and upload 0 B, 1 B and 64 MiB with SHA-256 compared, resume a download, PROT C and P, CCC
/// where the server allows it (and a clean refusal where it does not), by host name and by IP literal.
/// Trust comes from pinning the test certificate's SHA-256, as a user with a self-made certificate would.</summary>
public abstract class InteropMatrix<TServer> : IDisposable where TServer : FtpServerFixture
{
    private const long SixtyFourMiB = 64L * 1024 * 1024;

    private readonly TServer _fixture;
    private readonly string _localDirectory = Directory.CreateTempSubdirectory("secureftp-interop-").FullName;

    protected InteropMatrix(TServer fixture) => _fixture = fixture;

    public void Dispose()
    {
        Directory.Delete(_localDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }

    private async Task<FtpClient> ConnectAsync(FtpServerFixture server, string host)
    {
        try
        {
            return await FtpClient.ConnectAsync(server.ClientOptions(host));
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"Connecting to {server.PeerName} at {host}:{server.Port} failed: {e}\nServer log:\n{server.ReadServerLog()}");
        }
    }

    private string LocalFile(string name) => Path.Combine(_localDirectory, name);

    /// <summary>The mechanism name the session should report for this server.</summary>
    private static string ExpectedMechanismName(FtpServerFixture server) => server.Capabilities.Mechanism switch
    {
        FtpMechanism.Tls => "TLS",
        FtpMechanism.Ssl => "SSL",
        FtpMechanism.ImplicitTls => "Implicit TLS",
        _ => "None",
    };

    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName)]
    [InlineData("127.0.0.1")]
    public async Task LogsInAndLists(string host)
    {
        var server = _fixture.Require();
        var served = server.CreateFile($"list-{host}/listed.bin", 1234);
        using var client = await ConnectAsync(server, host);

        Assert.True(client.IsConnected);
        Assert.Equal(ExpectedMechanismName(server), client.Security.Mechanism);
        if (server.Capabilities.UsesTls)
        {
            Assert.True(client.CommandChannelProtected);
            Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
            Assert.Equal(server.Certificates.ServerSha256WithColons, client.Security.PeerFingerprint, ignoreCase: true);
            Assert.Equal("Pinned", client.Security.TrustSource);
        }
        var listing = await client.ListAsync(server.RemotePath($"list-{host}"));
        var item = Assert.Single(listing, i => i.Name == "listed.bin");
        Assert.Equal(FtpItemType.File, item.Type);
        Assert.Equal(served.Length, item.Length);
        // NLST with a path argument may answer names or paths (inetutils-ftpd gives paths): compare the last part.
        var names = await client.ListNamesAsync(server.RemotePath($"list-{host}"));
        Assert.Contains("listed.bin", names.Select(n => n.Split('/').Last()), StringComparer.Ordinal);
        await client.DisconnectAsync();
    }

    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName, 0)]
    [InlineData(FtpServerFixture.HostName, 1)]
    [InlineData("127.0.0.1", 0)]
    [InlineData("127.0.0.1", 1)]
    public async Task DownloadsAndUploadsTinyFiles(string host, int length)
    {
        var server = _fixture.Require();
        await RoundTripAsync(server, host, $"tiny-{host}-{length}", length);
    }

    /// <summary>64 MiB each way, once per server (by host name): enough to cross many TLS records, socket
    /// buffers and the progress throttle, and few enough for CI's time budget.</summary>
    [SkippableFact]
    public async Task DownloadsAndUploads64MiB()
    {
        var server = _fixture.Require();
        await RoundTripAsync(server, FtpServerFixture.HostName, "big", SixtyFourMiB);
    }

    private async Task RoundTripAsync(FtpServerFixture server, string host, string name, long length)
    {
        var served = server.CreateFile($"{name}/down.bin", length);
        using var client = await ConnectAsync(server, host);

        string downloaded = LocalFile($"{name}-down.bin");
        var down = await client.DownloadFileAsync(served.RemotePath, downloaded);
        Assert.Equal(length, down.Bytes);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(downloaded));
        Assert.False(File.Exists(downloaded + ".part"), "the temporary .part file must be gone after a completed download");

        string uploadedRemote = server.RemotePath($"{name}/up.bin");
        var up = await client.UploadFileAsync(downloaded, uploadedRemote);
        Assert.Equal(length, up.Bytes);
        await client.DisconnectAsync();
        // What the server stored, read from its disk, not from its word.
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(server.LocalPath($"{name}/up.bin")));
    }

    /// <summary>Active mode (EPRT, else PORT): the server connects back to us; under TLS we are still the
    /// TLS client on the data connection (RFC 4217 s.7).</summary>
    [SkippableFact]
    public async Task TransfersInActiveMode()
    {
        var server = _fixture.Require();
        var served = server.CreateFile("active/down.bin", 500_000);
        var options = server.ClientOptions("127.0.0.1");
        options.DataConnectionMode = DataConnectionMode.Active;
        using var client = await FtpClient.ConnectAsync(options);

        string downloaded = LocalFile("active-down.bin");
        await client.DownloadFileAsync(served.RemotePath, downloaded);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(downloaded));
        await client.UploadFileAsync(downloaded, server.RemotePath("active/up.bin"));
        Assert.Contains(await client.ListAsync(server.RemotePath("active")), i => i.Name == "up.bin" && i.Length == served.Length);
        await client.DisconnectAsync();
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(server.LocalPath("active/up.bin")));
    }

    [SkippableFact]
    public async Task ResumesADownloadFromAPartFile()
    {
        var server = _fixture.Require();
        var served = server.CreateFile("resume-part/file.bin", 3_000_000);
        string target = LocalFile("resume-part.bin");
        const int already = 1_234_567;
        await WritePrefixAsync(served.LocalPath, target + ".part", already);

        using var client = await ConnectAsync(server, FtpServerFixture.HostName);
        var result = await client.DownloadFileAsync(served.RemotePath, target, resume: true);

        Assert.True(result.Resumed);
        Assert.Equal(already, result.StartOffset);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(target));
        Assert.False(File.Exists(target + ".part"));
    }

    [SkippableFact]
    public async Task ResumesADownloadIntoAShorterLocalFile()
    {
        var server = _fixture.Require();
        var served = server.CreateFile("resume-short/file.bin", 2_000_000);
        string target = LocalFile("resume-short.bin");
        const int already = 999_999;
        await WritePrefixAsync(served.LocalPath, target, already);

        using var client = await ConnectAsync(server, "127.0.0.1");
        var result = await client.DownloadFileAsync(served.RemotePath, target, resume: true);

        Assert.True(result.Resumed);
        Assert.Equal(already, result.StartOffset);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(target));
    }

    private static async Task WritePrefixAsync(string source, string destination, int length)
    {
        var bytes = new byte[length];
        await using (var input = File.OpenRead(source))
            await input.ReadExactlyAsync(bytes);
        await File.WriteAllBytesAsync(destination, bytes);
    }

    /// <summary>PROT C then PROT P on one session, a transfer under each. A plain server refuses protection.</summary>
    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName)]
    [InlineData("127.0.0.1")]
    public async Task SwitchesBetweenClearAndPrivateData(string host)
    {
        var server = _fixture.Require();
        var served = server.CreateFile($"prot-{host}/file.bin", 300_000);
        using var client = await ConnectAsync(server, host);

        if (!server.Capabilities.UsesTls)
        {
            var refused = await Assert.ThrowsAsync<FtpException>(() => client.SetDataProtectionAsync(DataProtectionLevel.Private));
            Assert.Equal(DataProtectionLevel.Clear, client.DataProtection);
            Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
            Assert.NotEqual(FtpErrorKind.Connection, refused.Kind);
            return;
        }

        if (!server.Capabilities.AllowsClearData)
        {
            // The refusal is an error, and the session stays as it was: private, usable.
            await Assert.ThrowsAsync<FtpException>(() => client.SetDataProtectionAsync(DataProtectionLevel.Clear));
            Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
            await AssertDownloadsAsync(client, served);
            return;
        }

        foreach (var level in new[] { DataProtectionLevel.Clear, DataProtectionLevel.Private, DataProtectionLevel.Clear })
        {
            await client.SetDataProtectionAsync(level);
            Assert.Equal(level, client.DataProtection);
            await AssertDownloadsAsync(client, served);
        }
    }

    private static async Task AssertDownloadsAsync(FtpClient client, ServedFile served)
    {
        using var copy = new MemoryStream();
        await client.DownloadAsync(served.RemotePath, copy);
        Assert.Equal(served.Sha256, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(copy.ToArray())));
    }

    /// <summary>CCC: where the server allows it, commands go on in cleartext while the data stays protected;
    /// where it does not, the refusal is an error and the session stays protected and usable.</summary>
    [SkippableFact]
    public async Task ClearsTheCommandChannelWhereAllowed()
    {
        var server = _fixture.Require();
        var served = server.CreateFile("ccc/file.bin", 200_000);
        using var client = await ConnectAsync(server, FtpServerFixture.HostName);

        if (!server.Capabilities.AllowsCcc)
        {
            await Assert.ThrowsAsync<FtpException>(() => client.ClearCommandChannelAsync());
            Assert.Equal(server.Capabilities.UsesTls, client.CommandChannelProtected);
            Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
            return;
        }

        await client.ClearCommandChannelAsync();
        Assert.False(client.CommandChannelProtected);
        Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
        Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
        string target = LocalFile("ccc.bin");
        await client.DownloadFileAsync(served.RemotePath, target);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(target));
        var names = await client.ListNamesAsync(server.RemotePath("ccc"));
        Assert.Contains("file.bin", names.Select(n => n.Split('/').Last()), StringComparer.Ordinal);
        await client.DisconnectAsync();
    }
}

public sealed class VsftpdInterop(VsftpdFixture fixture) : InteropMatrix<VsftpdFixture>(fixture), IClassFixture<VsftpdFixture>;

public sealed class VsftpdImplicitInterop(VsftpdImplicitFixture fixture) : InteropMatrix<VsftpdImplicitFixture>(fixture), IClassFixture<VsftpdImplicitFixture>;

public sealed class ProftpdInterop(ProftpdFixture fixture) : InteropMatrix<ProftpdFixture>(fixture), IClassFixture<ProftpdFixture>;

public sealed class PureFtpdInterop(PureFtpdFixture fixture) : InteropMatrix<PureFtpdFixture>(fixture), IClassFixture<PureFtpdFixture>;

public sealed class FtpdSslInterop(FtpdSslFixture fixture) : InteropMatrix<FtpdSslFixture>(fixture), IClassFixture<FtpdSslFixture>;

public sealed class InetutilsFtpdInterop(InetutilsFtpdFixture fixture) : InteropMatrix<InetutilsFtpdFixture>(fixture), IClassFixture<InetutilsFtpdFixture>;
