using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Interop;

/// <summary>curl and lftp against each test server: these prove the fixture itself (config, certificate,
/// login, served folder) works, so an engine failure elsewhere is the engine's. They verify the certificate
/// chain against the test CA and the host name, by DNS name and by IP literal.</summary>
public abstract class PeerSanityTests<TServer> where TServer : FtpServerFixture
{
    private readonly TServer _fixture;

    protected PeerSanityTests(TServer fixture) => _fixture = fixture;

    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName)]
    [InlineData("127.0.0.1")]
    public async Task CurlDownloadsAServedFile(string host)
    {
        var server = _fixture.Require();
        var served = server.CreateFile($"curl-down-{host}.bin", 100_000);
        string local = Path.Combine(Path.GetTempPath(), $"secureftp-curl-{Guid.NewGuid():N}");
        try
        {
            var result = await PeerClients.CurlDownloadAsync(server, host, served.Name, local);
            Assert.True(result.ExitCode == 0, $"curl failed: {result}\nServer log:\n{server.ReadServerLog()}");
            Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(local));
        }
        finally
        {
            File.Delete(local);
        }
    }

    [SkippableFact]
    public async Task CurlUploadsAFile()
    {
        var server = _fixture.Require();
        string local = Path.Combine(Path.GetTempPath(), $"secureftp-curl-{Guid.NewGuid():N}");
        File.WriteAllBytes(local, Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray());
        try
        {
            var result = await PeerClients.CurlUploadAsync(server, FtpServerFixture.HostName, local, "curl-up.bin");
            Assert.True(result.ExitCode == 0, $"curl failed: {result}\nServer log:\n{server.ReadServerLog()}");
            Assert.Equal(FtpServerFixture.Sha256Of(local), FtpServerFixture.Sha256Of(server.LocalPath("curl-up.bin")));
        }
        finally
        {
            File.Delete(local);
        }
    }

    [SkippableFact]
    public async Task LftpListsAndDownloads()
    {
        var server = _fixture.Require();
        var served = server.CreateFile("lftp-down.bin", 3000);
        string localDirectory = Directory.CreateTempSubdirectory("secureftp-lftp-").FullName;
        try
        {
            var result = await PeerClients.LftpAsync(server, FtpServerFixture.HostName, $"cls -1; get {served.Name} -o {localDirectory}/");
            Assert.True(result.ExitCode == 0, $"lftp failed: {result}\nServer log:\n{server.ReadServerLog()}");
            Assert.Contains(served.Name, result.StandardOutput);
            Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(Path.Combine(localDirectory, served.Name)));
        }
        finally
        {
            Directory.Delete(localDirectory, recursive: true);
        }
    }
}

public sealed class VsftpdSanityTests(VsftpdFixture fixture) : PeerSanityTests<VsftpdFixture>(fixture), IClassFixture<VsftpdFixture>;

public sealed class VsftpdImplicitSanityTests(VsftpdImplicitFixture fixture) : PeerSanityTests<VsftpdImplicitFixture>(fixture), IClassFixture<VsftpdImplicitFixture>;

public sealed class ProftpdSanityTests(ProftpdFixture fixture) : PeerSanityTests<ProftpdFixture>(fixture), IClassFixture<ProftpdFixture>;

public sealed class PureFtpdSanityTests(PureFtpdFixture fixture) : PeerSanityTests<PureFtpdFixture>(fixture), IClassFixture<PureFtpdFixture>;

public sealed class FtpdSslSanityTests(FtpdSslFixture fixture) : PeerSanityTests<FtpdSslFixture>(fixture), IClassFixture<FtpdSslFixture>;

public sealed class InetutilsFtpdSanityTests(InetutilsFtpdFixture fixture) : PeerSanityTests<InetutilsFtpdFixture>(fixture), IClassFixture<InetutilsFtpdFixture>;
