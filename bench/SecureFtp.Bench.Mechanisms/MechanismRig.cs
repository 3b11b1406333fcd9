using System.Net;
using System.Security.Cryptography;
using SecureFtp.Security.Kea;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;

namespace SecureFtp.Bench.Mechanisms;

/// <summary>One embedded server on 127.0.0.1 offering TLS, X-SafeTP1 and KEA-SKIPJACK over a temp root holding the
/// benchmark file, and the client-side keys, credential and trust store each mechanism needs. Everything lives in
/// one temp folder that is deleted at the end.</summary>
internal sealed class MechanismRig : IAsyncDisposable
{
    public const string UserName = "bench";
    public const string FileName = "big.bin";
    private const string Password = "bench-password";

    private readonly string _work;
    private readonly SecureFtpServer _server;

    private MechanismRig(string work, SecureFtpServer server, long fileLength)
    {
        _work = work;
        _server = server;
        FileLength = fileLength;
    }

    public int Port => _server.Port;
    public long FileLength { get; }
    public string ClientKeyPath => Path.Combine(_work, "safetp-client.key");
    public string KeaCredentialPath => Path.Combine(_work, "kea-client.pem");
    public string TrustStorePath => Path.Combine(_work, "trust");

    public static async Task<MechanismRig> StartAsync(long fileLength)
    {
        string work = Directory.CreateTempSubdirectory("secureftp-bench-mechanisms-").FullName;
        string root = Path.Combine(work, "root");
        Directory.CreateDirectory(root);
        WriteRandomFile(Path.Combine(root, FileName), fileLength);

        SafeTpKeys.Save(SafeTpKeys.GenerateClientKey(), Path.Combine(work, "safetp-client.key"));
        var ca = KeaCertificateAuthority.Create("CN=SecureFtp Bench CA, O=SecureFtp");
        ca.Issue("CN=" + UserName).Save(Path.Combine(work, "kea-client.pem"));
        var kea = new KeaServerOptions(ca.Issue("CN=localhost"));
        kea.TrustedIssuers.Add(ca.Issuer);
        kea.Users.MapSubject("CN=" + UserName, UserName);

        var options = new SecureFtpServerOptions
        {
            Root = root,
            Certificate = SecureFtpServer.CreateSelfSignedCertificate(),
            Users = { new NetworkCredential(UserName, Password) },
        };
        options.AddSafeTp(SafeTpKeys.GenerateServerKey("SecureFtp Bench")).AddKea(kea);
        var server = new SecureFtpServer(options);
        await server.StartAsync();
        return new MechanismRig(work, server, fileLength);
    }

    /// <summary>Client options for one mechanism; data protected (PROT P) and every key of this rig trusted on first use.</summary>
    public FtpClientOptions ClientOptions(FtpMechanism mechanism) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Credential = new NetworkCredential(UserName, Password),
        Mechanisms = new List<FtpMechanism> { mechanism },
        DataProtection = Security.DataProtectionLevel.Private,
        TrustStorePath = TrustStorePath,
        AcceptNewKey = true,
        ClientKeyPath = ClientKeyPath,
        KeaCredentialPath = KeaCredentialPath,
        SkipCertificateCheck = true, // the rig's own self-signed certificate
    };

    private static void WriteRandomFile(string path, long length)
    {
        using var file = File.Create(path);
        var chunk = new byte[1024 * 1024];
        for (long left = length; left > 0; left -= chunk.Length)
        {
            RandomNumberGenerator.Fill(chunk);
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
