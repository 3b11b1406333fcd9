using System.Net;
using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Interop;

/// <summary>The wire check: the loopback traffic of a PROT P session against vsftpd holds neither the password
/// nor any part of the file's contents. A PROT C session, captured the same way, does show the contents:
/// that proves the capture sees the data connections, so the absence under PROT P means something.</summary>
public sealed class WireCheckTests(VsftpdFixture fixture) : IClassFixture<VsftpdFixture>, IDisposable
{
    private readonly string _localDirectory = Directory.CreateTempSubdirectory("secureftp-wire-").FullName;

    public void Dispose() => Directory.Delete(_localDirectory, recursive: true);

    /// <summary>32-byte samples spread over the file; any one of them on the wire is a leak.</summary>
    private static List<byte[]> Samples(string path)
    {
        var content = File.ReadAllBytes(path);
        return Enumerable.Range(0, 16).Select(i => content.AsSpan((int)((long)i * (content.Length - 32) / 15), 32).ToArray()).ToList();
    }

    private async Task<(byte[] Captured, ServedFile Served)> CaptureSessionAsync(DataProtectionLevel level)
    {
        var server = fixture.Require();
        var served = server.CreateFile($"wire-{level}/secret.bin", 1_000_000);
        using var capture = await PacketCapture.StartAsync(server);
        var options = server.ClientOptions(FtpServerFixture.HostName);
        options.DataProtection = level;
        using (var client = await FtpClient.ConnectAsync(options))
        {
            await client.DownloadFileAsync(served.RemotePath, Path.Combine(_localDirectory, "secret.bin"));
            await client.UploadFileAsync(Path.Combine(_localDirectory, "secret.bin"), server.RemotePath($"wire-{level}/secret-up.bin"));
            await client.DisconnectAsync();
        }
        var captured = await capture.StopAsync();
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_localDirectory, "secret.bin")));
        // The control connection was captured: AUTH TLS travels in the clear before the handshake.
        Assert.True(PacketCapture.Contains(captured, "AUTH TLS"), "the capture does not hold the session's control connection");
        return (captured, served);
    }

    [SkippableFact]
    public async Task PrivateSessionShowsNeitherPasswordNorContents()
    {
        var (captured, served) = await CaptureSessionAsync(DataProtectionLevel.Private);
        // Both transfers went through the capture (1 MB each way, encrypted), not around it.
        Assert.True(captured.Length > 2 * served.Length, $"only {captured.Length} bytes captured for two transfers of {served.Length}");
        Assert.False(PacketCapture.Contains(captured, PeerUser.Password), "the password appears on the wire");
        Assert.False(PacketCapture.Contains(captured, PeerUser.Name + "\r\n"), "the USER command appears on the wire");
        var leaked = Samples(served.LocalPath).Where(sample => PacketCapture.Contains(captured, sample)).ToList();
        Assert.True(leaked.Count == 0, $"{leaked.Count} of 16 samples of the file appear on the wire under PROT P");
    }

    [SkippableFact]
    public async Task ClearSessionShowsTheContentsButNotThePassword()
    {
        var (captured, served) = await CaptureSessionAsync(DataProtectionLevel.Clear);
        Assert.False(PacketCapture.Contains(captured, PeerUser.Password), "the password appears on the wire (the control channel is TLS)");
        var seen = Samples(served.LocalPath).Count(sample => PacketCapture.Contains(captured, sample));
        Assert.True(seen >= 12, $"only {seen} of 16 samples of the file were found in a PROT C capture: the capture misses the data connections");
    }
}
