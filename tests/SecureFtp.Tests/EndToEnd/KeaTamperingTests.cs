using SecureFtp.Tests.Rfc2228;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.EndToEnd;

/// <summary>Issue 5: a man in the middle on the control connection between the public client (KEA-SKIPJACK) and the
/// embedded server, using the tests' <see cref="TamperingProxy"/>. It picks its target by the command the client is
/// sending (the client's own trace, read before the protected line leaves): a flipped bit, a replayed command and two
/// reordered replies each end the session with an FtpException of kind Security, and nothing forged takes effect.</summary>
public sealed class KeaTamperingTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private volatile string _sending = "";

    public async Task InitializeAsync()
        => _server = await RunningServer.StartRootAsync(o => EndToEndKit.WithKea(o, RunningServer.UserName));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Connects through <paramref name="proxy"/>; <see cref="_sending"/> follows the plaintext command in flight.</summary>
    private Task<FtpClient> ConnectAsync(TamperingProxy proxy)
    {
        var options = EndToEndKit.ClientOptions(FtpMechanism.KeaSkipjack, proxy.Port, RunningServer.UserName, RunningServer.Password);
        options.Trace = (sent, line) => { if (sent) _sending = line; };
        return FtpClient.ConnectAsync(options);
    }

    private bool Sending(string verb) => _sending.StartsWith(verb + " ", StringComparison.Ordinal);

    private static bool IsProtectedCommand(bool fromClient, string line) => fromClient && line.StartsWith("ENC ", StringComparison.Ordinal);

    private static bool IsProtectedReply(bool fromClient, string line) => !fromClient && line.StartsWith("632", StringComparison.Ordinal);

    /// <summary>The protected line with one bit of its token (the middle byte's lowest) flipped.</summary>
    private static string FlipOneBit(string line)
    {
        var token = Convert.FromBase64String(line[4..]);
        token[token.Length / 2] ^= 0x01;
        return line[..4] + Convert.ToBase64String(token);
    }

    private static async Task AssertSessionIsOverAsync(FtpClient client)
        => await Assert.ThrowsAnyAsync<Exception>(() => client.NoOpAsync());

    [Fact]
    public async Task AFlippedBitInACommandIsRefusedAndTheCommandDoesNotRun()
    {
        string kept = _server.CreateFile("keep.bin", 100);
        bool flipped = false;
        await using var proxy = new TamperingProxy(_server.Port, async (fromClient, line, wire) =>
        {
            if (flipped || !IsProtectedCommand(fromClient, line) || !Sending("DELE")) return false;
            flipped = true;
            await wire.ToServer(FlipOneBit(line));
            return true;
        });
        using var client = await ConnectAsync(proxy);

        var e = await Assert.ThrowsAsync<FtpException>(() => client.DeleteFileAsync("keep.bin"));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        // The message says which mechanism refused the command and why (the server's 535 text is passed on).
        Assert.Contains("KEA-SKIPJACK", e.Message);
        Assert.True(flipped);
        Assert.True(File.Exists(_server.LocalPath("keep.bin")), "the altered DELE was carried out");
        Assert.Equal(kept, EndToEndKit.Sha256Of(_server.LocalPath("keep.bin")));
        await AssertSessionIsOverAsync(client);
    }

    [Fact]
    public async Task AReplayedCommandIsRefusedAndEndsTheSession()
    {
        bool replayed = false;
        await using var proxy = new TamperingProxy(_server.Port, async (fromClient, line, wire) =>
        {
            if (replayed || !IsProtectedCommand(fromClient, line) || !Sending("MKD")) return false;
            replayed = true;
            await wire.ToServer(line);
            await wire.ToServer(line); // the replay
            return true;
        });
        using var client = await ConnectAsync(proxy);

        await client.CreateDirectoryAsync("once");
        Assert.True(replayed);
        // The server refused the replayed copy (535) and hung up: that is what the client's next command meets.
        var e = await Assert.ThrowsAsync<FtpException>(() => client.GetWorkingDirectoryAsync());
        Assert.True(e.Kind == FtpErrorKind.Security, $"{e.Kind} {e.ErrorId}: {e.Message}\nserver log:\n{_server.LogText}");
        Assert.Contains("KEA-SKIPJACK", e.Message);
        await AssertSessionIsOverAsync(client);
    }

    [Fact]
    public async Task TwoRepliesDeliveredOutOfOrderAreDetectedByTheClient()
    {
        _server.CreateFile("small.bin", 1000);
        string? held = null;
        bool reordered = false;
        // RETR is answered twice (150, then 226 once the data is sent): the client gets the 226 first.
        await using var proxy = new TamperingProxy(_server.Port, async (fromClient, line, wire) =>
        {
            if (reordered || !IsProtectedReply(fromClient, line) || !Sending("RETR")) return false;
            if (held == null)
            {
                held = line;
                return true;
            }
            reordered = true;
            await wire.ToClient(line);
            await wire.ToClient(held);
            return true;
        });
        using var client = await ConnectAsync(proxy);

        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadAsync("small.bin", new MemoryStream()));
        Assert.True(reordered);
        Assert.True(e.Kind == FtpErrorKind.Security, $"{e.Kind} {e.ErrorId}: {e.Message}");
        Assert.Contains(e.ErrorId, new[] { "KeaIcvMismatch", "KeaSequenceMismatch" });
        Assert.StartsWith("KEA-SKIPJACK: ", e.Message);
        await AssertSessionIsOverAsync(client);
    }
}
