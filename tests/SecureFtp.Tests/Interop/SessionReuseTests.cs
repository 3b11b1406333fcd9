using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Interop;

/// <summary>Two vsftpd servers (require_ssl_reuse=YES) on one host, different ports, sessions to both open at
/// once: each data connection must resume its own control connection's TLS session. A session cache keyed
/// by host name alone offers one server the other's session, and vsftpd answers 522. The same holds for two
/// sessions to one server: FtpClient's advice is one client per concurrent transfer.</summary>
public sealed class SessionReuseTests(VsftpdFixture shared) : IClassFixture<VsftpdFixture>
{
    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName)]
    [InlineData("127.0.0.1")]
    public async Task InterleavedSessionsToOneServerEachResumeTheirOwn(string host)
    {
        var server = shared.Require();
        var file = server.CreateFile($"reuse-one-{host}/a.bin", 10_000);
        using var one = await FtpClient.ConnectAsync(server.ClientOptions(host));
        using var two = await FtpClient.ConnectAsync(server.ClientOptions(host));
        for (int round = 0; round < 3; round++)
        {
            foreach (var client in new[] { one, two })
            {
                using var copy = new MemoryStream();
                await client.DownloadAsync(file.RemotePath, copy);
                Assert.Equal(file.Length, copy.Length);
            }
        }
    }

    [SkippableTheory]
    [InlineData(FtpServerFixture.HostName)]
    [InlineData("127.0.0.1")]
    public async Task InterleavedSessionsToTwoServersOnOneHostEachResumeTheirOwn(string host)
    {
        using var first = new VsftpdFixture();
        using var second = new VsftpdFixture();
        first.Require();
        second.Require();
        var firstFile = first.CreateFile("reuse/a.bin", 10_000);
        var secondFile = second.CreateFile("reuse/b.bin", 20_000);

        using var toFirst = await FtpClient.ConnectAsync(first.ClientOptions(host));
        using var toSecond = await FtpClient.ConnectAsync(second.ClientOptions(host));
        for (int round = 0; round < 3; round++)
        {
            using var a = new MemoryStream();
            await toFirst.DownloadAsync(firstFile.RemotePath, a);
            Assert.Equal(firstFile.Length, a.Length);
            using var b = new MemoryStream();
            await toSecond.DownloadAsync(secondFile.RemotePath, b);
            Assert.Equal(secondFile.Length, b.Length);
        }
    }
}
