using System.Net;
using SecureFtp.Security.SafeTp;
using SecureFtp.Tests.Rfc2228;
using SecureFtp.Tests.SafeTp;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.Mitm;

/// <summary>Seed 000 s.5.10 end to end: the embedded server offers TLS and X-SafeTP1, the man in the middle answers 500
/// to AUTH TLS so that FtpClient falls to X-SafeTP1, and DIGT (the digest of the cleartext conversation) catches it.
/// (Rfc2228LoopbackTests does the same on the framework's own client and server halves.)</summary>
public sealed class SwallowedAuthDigtTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mitm-digt-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static Task<RunningServer> StartServerOfferingTlsAndSafeTpAsync()
        => RunningServer.StartRootAsync(o => o.AddSafeTp(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1024 }));

    private FtpClientOptions Options(int port, params FtpMechanism[] mechanisms) => new()
    {
        Host = "127.0.0.1", Port = port, Mechanisms = mechanisms.ToList(),
        Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password), AcceptNewKey = true,
        TrustStorePath = Path.Combine(_dir, "trust"), ClientKeyPath = Path.Combine(_dir, "client.key"),
    };

    [Fact]
    public async Task AUTH_TLS_swallowed_on_the_path_makes_the_client_fall_to_X_SafeTP1_and_DIGT_detects_it()
    {
        await using var server = await StartServerOfferingTlsAndSafeTpAsync();
        var commandsFromClient = new List<string>();
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            if (!fromClient) return false;
            lock (commandsFromClient) commandsFromClient.Add(line);
            if (!line.StartsWith("AUTH TLS", StringComparison.OrdinalIgnoreCase)) return false;
            await wire.ToClient("500 AUTH TLS not understood.");
            return true;
        });

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(Options(proxy.Port, FtpMechanism.Tls, FtpMechanism.SafeTp)));

        Assert.Equal(("TranscriptMismatch", FtpErrorKind.Security), (e.ErrorId, e.Kind));
        lock (commandsFromClient)
        {
            Assert.Contains(commandsFromClient, c => c.StartsWith("AUTH X-SafeTP1", StringComparison.OrdinalIgnoreCase)); // it did fall
            Assert.DoesNotContain(commandsFromClient, c => c.StartsWith("USER", StringComparison.Ordinal) || c.StartsWith("PASS", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_same_proxy_relaying_faithfully_lets_X_SafeTP1_with_DIGT_through()
    {
        // The control for the test above: the proxy as such does not upset DIGT; only the swallowed AUTH does.
        await using var server = await StartServerOfferingTlsAndSafeTpAsync();
        await using var proxy = new TamperingProxy(server.Port, (_, _, _) => Task.FromResult(false));
        using var client = await FtpClient.ConnectAsync(Options(proxy.Port, FtpMechanism.SafeTp));
        Assert.Equal("X-SafeTP1", client.Security.Mechanism);
        Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
    }
}
