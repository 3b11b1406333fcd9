using SecureFtp.Server;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Server;

/// <summary>Root mode with the real legacy clients: curl and lftp upload, download (hashes compared) and list,
/// in RFC 959 mode and over TLS (explicit, AUTH SSL, implicit).</summary>
public sealed class EmbeddedServerClientTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-server-client-").FullName;

    private string LocalFile(string name, int length)
    {
        string path = Path.Combine(_work, name);
        File.WriteAllBytes(path, System.Security.Cryptography.RandomNumberGenerator.GetBytes(length));
        return path;
    }

    private static void Succeeded(ProcessResult result, RunningServer server)
        => Assert.True(result.ExitCode == 0, $"{result}\nserver log:\n{server.LogText}");

    [SkippableTheory]
    [InlineData(ClientSecurity.None, false)]
    [InlineData(ClientSecurity.None, true)]
    [InlineData(ClientSecurity.ExplicitTls, false)]
    [InlineData(ClientSecurity.ExplicitTlsUnverified, false)]
    [InlineData(ClientSecurity.ImplicitTls, false)]
    // No active mode with TLS here: Debian's curl 7.88 sends cleartext on an active FTPS data connection
    // (curl/curl#10669, fixed in 8.0); the lftp test covers active TLS.
    public async Task CurlUploadsDownloadsAndLists(ClientSecurity security, bool active)
    {
        Peer.Require("curl");
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.AllowInsecure = security == ClientSecurity.None;
            o.ImplicitTlsPort = 0;
        });
        int port = security == ClientSecurity.ImplicitTls ? server.Server.ImplicitTlsPort!.Value : server.Port;
        string upload = LocalFile("up.bin", 3 * 1024 * 1024 + 17);

        Succeeded(await LegacyClients.CurlUploadAsync(security, port, upload, "incoming.bin", active: active), server);
        Assert.Equal(LegacyClients.Sha256Of(upload), LegacyClients.Sha256Of(server.LocalPath("incoming.bin")));

        string served = server.CreateFile("sub/served.bin", 1024 * 1024 + 3);
        string download = Path.Combine(_work, "down.bin");
        Succeeded(await LegacyClients.CurlDownloadAsync(security, port, "sub/served.bin", download, active: active), server);
        Assert.Equal(served, LegacyClients.Sha256Of(download));

        var list = await LegacyClients.CurlListAsync(security, port);
        Succeeded(list, server);
        Assert.Contains(list.StandardOutput.Split('\n'), l => l.StartsWith('d') && l.TrimEnd().EndsWith(" sub", StringComparison.Ordinal));
        Assert.Contains(list.StandardOutput.Split('\n'), l => l.StartsWith('-') && l.Contains(" 3145745 ") && l.TrimEnd().EndsWith(" incoming.bin", StringComparison.Ordinal));
        var names = await LegacyClients.CurlListAsync(security, port, "sub", namesOnly: true);
        Succeeded(names, server);
        Assert.Equal(new[] { "served.bin" }, names.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        if (security == ClientSecurity.ImplicitTls)
            Assert.Contains(server.Log, e => e.Message.Contains("Implicit TLS established"));
        else if (security != ClientSecurity.None)
            // curl asks for AUTH SSL (TLS-P, seed 001) first: data is private without PROT.
            Assert.Contains(server.Log, e => e.Message.StartsWith("AUTH SSL: TLS established", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [InlineData(ClientSecurity.None, false)]
    [InlineData(ClientSecurity.None, true)]
    [InlineData(ClientSecurity.ExplicitTls, false)]
    [InlineData(ClientSecurity.ExplicitTls, true)]
    [InlineData(ClientSecurity.ExplicitTlsUnverified, false)]
    [InlineData(ClientSecurity.ImplicitTls, false)]
    // AUTH SSL (TLS-P) is covered by curl, which asks for AUTH SSL first. lftp with ftp:ssl-auth SSL (GnuTLS) is not:
    // its data ClientHello resumes the TLS 1.3 control session and so offers TLS 1.3 only (supported_versions), and
    // the server keeps data connections at TLS 1.2 (TlsServer.DataConnectionProtocols), so the server answers with a
    // protocol_version alert (70), seen in a capture. Allowing TLS 1.3 there made the server send a NewSessionTicket
    // on the data connection even with AllowTlsResume off, and lftp's upload then hung at its end.
    public async Task LftpPutsGetsListsAndManagesFiles(ClientSecurity security, bool active)
    {
        Peer.Require("lftp");
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.AllowInsecure = security == ClientSecurity.None;
            o.ImplicitTlsPort = 0;
            // The TLS runs also prove PROT P reached the server: a clear data connection would be refused.
            o.RequireProtectedData = security != ClientSecurity.None;
        });
        int port = security == ClientSecurity.ImplicitTls ? server.Server.ImplicitTlsPort!.Value : server.Port;
        string upload = LocalFile("lftp-up.bin", 2 * 1024 * 1024 + 5);
        string download = Path.Combine(_work, "lftp-down.bin");

        var result = await LegacyClients.LftpAsync(security, port,
            $"mkdir docs; cd docs; put {upload} -o a.bin; mv a.bin b.bin; get b.bin -o {download}; cls -l; cd ..; ls docs", active: active);
        Succeeded(result, server);
        Assert.Equal(LegacyClients.Sha256Of(upload), LegacyClients.Sha256Of(download));
        Assert.True(File.Exists(server.LocalPath("docs/b.bin")));
        Assert.False(File.Exists(server.LocalPath("docs/a.bin")));
        Assert.Contains("b.bin", result.StandardOutput);
        // No temporary upload file is left behind.
        Assert.Equal(new[] { "b.bin" }, Directory.GetFiles(server.LocalPath("docs")).Select(Path.GetFileName));

        var cleanup = await LegacyClients.LftpAsync(security, port, "rm docs/b.bin; rmdir docs", active: active);
        Succeeded(cleanup, server);
        Assert.False(Directory.Exists(server.LocalPath("docs")));
    }

    [SkippableFact]
    public async Task LftpResumesAnInterruptedDownloadWithRest()
    {
        Peer.Require("lftp");
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        string served = server.CreateFile("big.bin", 700_000);
        string download = Path.Combine(_work, "big.bin");
        File.WriteAllBytes(download, File.ReadAllBytes(server.LocalPath("big.bin")).AsSpan(0, 300_000).ToArray());

        Succeeded(await LegacyClients.LftpAsync(ClientSecurity.None, server.Port, $"get -c big.bin -o {download}"), server);
        Assert.Equal(served, LegacyClients.Sha256Of(download));
        Assert.Contains(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && e.Message == "REST 300000");
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
