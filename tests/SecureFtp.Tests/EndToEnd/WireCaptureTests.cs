using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.EndToEnd;

/// <summary>Issues 4 and 5: the loopback traffic (tcpdump) of an X-SafeTP1 and of a KEA-SKIPJACK session between the
/// public client and the embedded server holds neither the password, nor the USER line, nor any part of a file sent
/// under PROT P either way. The same session then downloads a file under PROT C, whose contents must be in the
/// capture: that proves the capture saw the data connections, so the absences mean something.</summary>
public sealed class WireCaptureTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-e2e-wire-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>The embedded server's passive ports are ephemeral ones, so the capture cannot pick the session by port; it
    /// picks it by an address of the loopback network that no other test uses (Linux routes all of 127/8 to lo). The
    /// address is drawn at random for each run, so a test run in another checkout on the same machine (or another
    /// test of this run using a fixed address such as 127.0.0.2) cannot put its traffic into this capture.</summary>
    private static readonly System.Net.IPAddress CapturedAddress = new(new byte[] { 127, 77, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255) });

    /// <summary>16 samples of 32 bytes spread over the file; any one of them on the wire is a leak.</summary>
    private static List<byte[]> Samples(string path)
    {
        var content = File.ReadAllBytes(path);
        return Enumerable.Range(0, 16).Select(i => content.AsSpan((int)((long)i * (content.Length - 32) / 15), 32).ToArray()).ToList();
    }

    [SkippableTheory]
    [InlineData(FtpMechanism.SafeTp, "AUTH X-SafeTP1")]
    [InlineData(FtpMechanism.KeaSkipjack, "AUTH KEA-SKIPJACK")]
    public async Task ACapturedSessionShowsNeitherPasswordNorContents(FtpMechanism mechanism, string authLine)
    {
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.ListenAddress = CapturedAddress;
            EndToEndKit.WithKea(EndToEndKit.WithSafeTp(o), RunningServer.UserName);
        });
        server.CreateFile("secret.bin", 1_000_000);
        server.CreateFile("public.bin", 200_000);
        string secret = Path.Combine(_work, "secret.bin");
        var options = EndToEndKit.ClientOptions(mechanism, server.Port, RunningServer.UserName, RunningServer.Password);
        options.Host = CapturedAddress.ToString();

        using var capture = await PacketCapture.StartAsync($"tcp and host {CapturedAddress}");
        using (var client = await FtpClient.ConnectAsync(options))
        {
            await client.DownloadFileAsync("secret.bin", secret);
            await client.UploadFileAsync(secret, "secret-up.bin");
            await client.SetDataProtectionAsync(DataProtectionLevel.Clear);
            await client.DownloadFileAsync("public.bin", Path.Combine(_work, "public.bin"));
            await client.DisconnectAsync();
        }
        var captured = await capture.StopAsync();

        Assert.Equal(EndToEndKit.Sha256Of(server.LocalPath("secret.bin")), EndToEndKit.Sha256Of(secret));
        Assert.Equal(EndToEndKit.Sha256Of(secret), EndToEndKit.Sha256Of(server.LocalPath("secret-up.bin")));
        Assert.True(PacketCapture.Contains(captured, authLine), $"the capture does not hold the session's control connection\ntcpdump: {capture.Messages}");
        int publicSeen = Samples(server.LocalPath("public.bin")).Count(sample => PacketCapture.Contains(captured, sample));
        Assert.True(publicSeen == 16, $"only {publicSeen} of 16 samples of the PROT C download are in the capture: it misses the data connections");

        Assert.False(PacketCapture.Contains(captured, RunningServer.Password), "the password appears on the wire");
        Assert.False(PacketCapture.Contains(captured, "USER " + RunningServer.UserName), "the USER command appears on the wire");
        int leaked = Samples(secret).Count(sample => PacketCapture.Contains(captured, sample));
        Assert.True(leaked == 0, $"{leaked} of 16 samples of the file sent under PROT P appear on the wire");
    }
}
