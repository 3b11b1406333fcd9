using System.Net;
using System.Security.Cryptography;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;
using SecureFtp.Tests.Kea;
using SecureFtp.Tests.SafeTp;
using Xunit;

namespace SecureFtp.Tests.EndToEnd;

/// <summary>What the end-to-end tests share: the KEA site (CA, server and client credential on disk), the X-SafeTP1
/// client key, client options as a user would write them, and the round trip a user checks by hand.</summary>
internal static class EndToEndKit
{
    /// <summary>The file sizes of issue 5: empty, one byte, and 16 MiB (many protected buffers).</summary>
    public static readonly int[] IssueSizes = { 0, 1, 16 * 1024 * 1024 };

    private static readonly string KeyDirectory = Directory.CreateTempSubdirectory("secureftp-e2e-keys-").FullName;
    private static readonly Lazy<KeaTestKit> LazyKea = new(() =>
    {
        var kit = new KeaTestKit();
        kit.Alice.Save(AliceCredentialPath);
        return kit;
    });

    public static KeaTestKit Kea => LazyKea.Value;
    private static string AliceCredentialPath => Path.Combine(KeyDirectory, "alice.kea.pem");

    /// <summary>The client would make a 2048-bit key on first use; the run's 1024-bit test key saves that time.</summary>
    private static readonly Lazy<string> LazySafeTpClientKeyPath = new(() =>
    {
        string path = Path.Combine(KeyDirectory, "safetp-client.key");
        SafeTpKeys.Save(SafeTpTestKit.ClientKey, path);
        return path;
    });

    /// <summary>The server half of the site: Alice's certificate may log in as <paramref name="user"/>.</summary>
    public static SecureFtpServerOptions WithKea(SecureFtpServerOptions options, string user)
    {
        var kea = Kea.ServerOptions();
        kea.Users.MapSubject("CN=alice", user);
        return options.AddKea(kea);
    }

    public static SecureFtpServerOptions WithSafeTp(SecureFtpServerOptions options)
        => options.AddSafeTp(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1024 });

    /// <summary>What a user gives the client: host, port, login and one mechanism, nothing else. The trust store and
    /// the X-SafeTP1 client key live in this run's temp folder (the client key is made on first use, then reused).</summary>
    public static FtpClientOptions ClientOptions(FtpMechanism mechanism, int port, string user, string password)
    {
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = port,
            Credential = new NetworkCredential(user, password),
            Mechanisms = new List<FtpMechanism> { mechanism },
            TrustStorePath = Path.Combine(KeyDirectory, "trust"),
            ReadTimeout = TimeSpan.FromSeconds(30),
            DataTimeout = TimeSpan.FromSeconds(60),
        };
        if (mechanism == FtpMechanism.KeaSkipjack)
        {
            _ = Kea;
            options.KeaCredentialPath = AliceCredentialPath;
        }
        else
        {
            options.AcceptNewKey = true;
            options.ClientKeyPath = LazySafeTpClientKeyPath.Value;
        }
        return options;
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>The session a user runs to check a server by hand: make a folder and go into it, upload a file of each
    /// size, list them, download each back; every copy (local, on the server's disk, downloaded) has the same SHA-256.</summary>
    /// <param name="remoteFolder">The folder to create, as the server names it.</param>
    /// <param name="serverFolder">The same folder on the local disk, to check what the server stored.</param>
    public static async Task RoundTripAsync(FtpClient client, string remoteFolder, string serverFolder, string work, IEnumerable<int> sizes)
    {
        await client.CreateDirectoryAsync(remoteFolder);
        await client.ChangeDirectoryAsync(remoteFolder);
        Assert.EndsWith(Path.GetFileName(remoteFolder.TrimEnd('/')), (await client.GetWorkingDirectoryAsync()).TrimEnd('/'));
        await client.NoOpAsync();

        var expected = new Dictionary<string, (int Length, string Sha256)>();
        foreach (int size in sizes)
        {
            string name = $"file-{size}.bin";
            string local = Path.Combine(work, name);
            File.WriteAllBytes(local, RandomNumberGenerator.GetBytes(size));
            expected[name] = (size, Sha256Of(local));
            await client.UploadFileAsync(local, name);
            Assert.True(expected[name].Sha256 == Sha256Of(Path.Combine(serverFolder, name)), $"the server stored {name} altered");
        }

        var listing = await client.ListAsync();
        foreach (var (name, (length, _)) in expected)
            Assert.Contains(listing, item => item.Name == name && item.Length == length);

        foreach (var (name, (_, sha256)) in expected)
        {
            string downloaded = Path.Combine(work, "down-" + name);
            await client.DownloadFileAsync(name, downloaded);
            Assert.True(sha256 == Sha256Of(downloaded), $"{name} came back altered");
        }
    }
}
