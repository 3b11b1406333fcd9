using System.Security.Cryptography;
using SecureFtp.Security;
using SecureFtp.Tests.SafeTp;
using Xunit;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>The public client (FtpClient with -Mechanism SafeTp) against the framework's server half: the catalog,
/// DIGT, PBSZ/PROT P and protected transfers as a user runs them.</summary>
public sealed class FtpClientSafeTpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetp-client").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Connect_log_in_download_and_upload_over_X_SafeTP1()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey) { Download = RandomNumberGenerator.GetBytes(250_000) };
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1", Port = server.Port, Mechanisms = new List<FtpMechanism> { FtpMechanism.SafeTp },
            Credential = new System.Net.NetworkCredential("alice", "secret-pw"), AcceptNewKey = true,
            TrustStorePath = Path.Combine(_dir, "trust"), ClientKeyPath = Path.Combine(_dir, "client.key"),
            DataConnectionMode = DataConnectionMode.Passive,
        };
        using var client = await FtpClient.ConnectAsync(options);
        var download = new MemoryStream();
        await client.DownloadAsync("file.bin", download);
        Assert.Equal(server.Download, download.ToArray());

        var upload = RandomNumberGenerator.GetBytes(70_001);
        await client.UploadAsync(new MemoryStream(upload), "up.bin");
        Assert.Equal(upload, server.Uploaded);
        Assert.Equal(DataProtectionLevel.Private, server.Negotiation!.DataProtection);
        lock (server.WireLines) Assert.DoesNotContain(server.WireLines, l => l.Contains("secret-pw"));
    }
}
