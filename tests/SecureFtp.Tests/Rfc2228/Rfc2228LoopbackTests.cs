using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Tests.SafeTp;
using Xunit;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>The RFC 2228 framework end to end over real loopback sockets: the client mechanism against the server
/// negotiation, with X-SafeTP1 as the mechanism on both sides.</summary>
public sealed class Rfc2228LoopbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rfc2228").FullName;
    private readonly MemoryTrustStore _store = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public void Dispose() => Directory.Delete(_dir, true);

    private FtpClientOptions Options() => new() { Host = "127.0.0.1", AcceptNewKey = true, ClientKeyPath = Path.Combine(_dir, "client.key") };

    private Task<(FtpControlConnection Control, Rfc2228SecuritySession Session, ControlTranscript Transcript)> ConnectAsync(int port, Func<FtpControlConnection, Task>? beforeAuth = null, bool digest = true)
        => LoopbackClient.ConnectAsync(port, Options(), _store, beforeAuth, digest);

    [Fact]
    public async Task Negotiates_then_commands_and_multi_line_replies_travel_protected_and_DIGT_matches()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var (control, session, _) = await ConnectAsync(server.Port);
        using var _c = control;
        using var _s = session;
        Assert.Equal("X-SafeTP1", session.Details.Mechanism);
        Assert.Equal("Example Corp FTP", session.Details.PeerName);
        Assert.IsType<Rfc2228ControlProtection>(control.Protection);

        var user = await control.ExecuteAsync("USER alice", CancellationToken.None);
        Assert.Equal(331, user.Code);
        Assert.True(user.WasProtected);
        var feat = await control.ExecuteAsync("FEAT", CancellationToken.None);
        Assert.Equal(211, feat.Code);
        Assert.Equal(new[] { "Features:", " DIGT", " PBSZ", " PROT", "End" }, feat.Lines);

        // The password reaches the server intact, and never crossed the wire in cleartext.
        Assert.Equal(230, (await control.ExecuteAsync("PASS secret-pw", CancellationToken.None)).Code);
        lock (server.WireLines)
        {
            Assert.DoesNotContain(server.WireLines, l => l.Contains("secret-pw") || l.StartsWith("PASS", StringComparison.Ordinal) || l.StartsWith("USER", StringComparison.Ordinal));
            Assert.Contains(server.WireLines, l => l.StartsWith("ENC ", StringComparison.Ordinal));
        }
        Assert.Single(_store.GetAll());
        Assert.True(server.Negotiation!.IsEstablished);
    }

    [Fact]
    public async Task Coerced_fallback_an_AUTH_swallowed_on_the_path_is_caught_by_DIGT()
    {
        // Without an attacker the client's earlier AUTH TLS (refused by the server itself) is in both records.
        await using (var honest = new MiniRfc2228Server(SafeTpTestKit.ServerKey))
        {
            var (control, session, _) = await ConnectAsync(honest.Port, c => c.ExecuteAsync("AUTH TLS", CancellationToken.None));
            control.Dispose();
            session.Dispose();
        }

        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        await using var attacker = new AuthSwallowingProxy(server.Port);
        var e = await Assert.ThrowsAsync<FtpException>(() => ConnectAsync(attacker.Port, async c =>
        {
            var refused = await c.ExecuteAsync("AUTH TLS", CancellationToken.None);
            Assert.Equal(500, refused.Code); // what the attacker wants the client to believe
        }));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("TranscriptMismatch", e.ErrorId);
    }

    [Fact]
    public async Task PBSZ_PROT_and_protected_downloads_and_uploads_round_trip_with_the_end_of_file_block()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        server.Download = RandomNumberGenerator.GetBytes(300_000);
        var (control, session, _) = await ConnectAsync(server.Port);
        using var _c = control;
        using var _s = session;

        var pbsz = await control.ExecuteAsync("PBSZ " + session.ProposedBufferSize, CancellationToken.None);
        Assert.Equal(200, pbsz.Code);
        session.SetBufferSize(int.Parse(Regex.Match(pbsz.Message, @"PBSZ=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(200, (await control.ExecuteAsync("PROT P", CancellationToken.None)).Code);
        Assert.Equal(DataProtectionLevel.Private, server.Negotiation!.DataProtection);

        // Download.
        using (var data = await LoopbackClient.OpenDataAsync(control, "RETR file.bin", session))
        {
            var received = new MemoryStream();
            await data.CopyToAsync(received);
            Assert.Equal(server.Download, received.ToArray());
            Assert.True(((ProtectedDataStream)data).ReachedEndOfFile);
        }
        Assert.Equal(226, (await control.ReadReplyAsync(CancellationToken.None)).Code);

        // Upload, then an empty upload: the end-of-file block alone is a complete empty file.
        foreach (var payload in new[] { RandomNumberGenerator.GetBytes(200_001), Array.Empty<byte>() })
        {
            using (var data = await LoopbackClient.OpenDataAsync(control, "STOR up.bin", session))
                await data.WriteAsync(payload);
            var done = await control.ReadReplyAsync(CancellationToken.None);
            Assert.Equal(226, done.Code);
            Assert.Equal(payload, server.Uploaded);
        }
    }

    [Fact]
    public async Task An_upload_cut_before_the_end_of_file_block_is_not_taken_as_complete()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var (control, session, _) = await ConnectAsync(server.Port);
        using var _c = control;
        using var _s = session;
        await control.ExecuteAsync("PBSZ 65536", CancellationToken.None);
        session.SetBufferSize(65536);
        await control.ExecuteAsync("PROT P", CancellationToken.None);
        using (var data = await LoopbackClient.OpenDataAsync(control, "STOR up.bin", session))
        {
            await data.WriteAsync(new byte[150_000]);
            ((ProtectedDataStream)data).Abort();
        }
        var reply = await control.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(426, reply.Code);
        Assert.Null(server.Uploaded);
        var error = Assert.IsType<FtpException>(server.UploadError);
        Assert.Equal(("TransferTruncated", FtpErrorKind.Truncated), (error.ErrorId, error.Kind));
    }

    [Fact]
    public async Task The_server_refuses_CCC_unprotected_commands_and_bad_PBSZ_PROT()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var (control, session, _) = await ConnectAsync(server.Port);
        using var _c = control;
        using var _s = session;

        var ccc = await control.ExecuteAsync("CCC", CancellationToken.None);
        Assert.Equal(534, ccc.Code);
        Assert.Contains("CCC refused", ccc.Message);
        Assert.Equal(503, (await control.ExecuteAsync("PROT P", CancellationToken.None)).Code); // PBSZ first
        Assert.Equal(501, (await control.ExecuteAsync("PBSZ 10", CancellationToken.None)).Code);
        var pbsz = await control.ExecuteAsync("PBSZ 99999999", CancellationToken.None);
        Assert.Equal("PBSZ=131072", pbsz.Message);
        Assert.Equal(536, (await control.ExecuteAsync("PROT S", CancellationToken.None)).Code);

        // A cleartext command on the protected channel is refused (533), still answered protected.
        var protection = control.Protection;
        control.Protection = null;
        await control.SendAsync("NOOP", CancellationToken.None);
        control.Protection = protection;
        var refused = await control.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(533, refused.Code);
        Assert.True(refused.WasProtected);
        Assert.Equal(200, (await control.ExecuteAsync("NOOP", CancellationToken.None)).Code);
    }

    [Fact]
    public async Task A_forged_protected_command_ends_the_session()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        var (control, session, _) = await ConnectAsync(server.Port);
        using var _c = control;
        using var _s = session;
        var protection = control.Protection;
        control.Protection = null;
        await control.SendAsync("ENC " + Convert.ToBase64String(new byte[48]), CancellationToken.None);
        control.Protection = protection;
        var reply = await control.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(535, reply.Code);
        await Assert.ThrowsAsync<FtpException>(() => control.ExecuteAsync("NOOP", CancellationToken.None));
    }

    [Fact]
    public async Task A_server_without_the_mechanism_makes_NegotiateAsync_return_null()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey);
        using var control = await FtpControlConnection.OpenAsync("127.0.0.1", server.Port, Timeout, new UTF8Encoding(false), CancellationToken.None);
        await control.ReadReplyAsync(CancellationToken.None);
        var other = new Rfc2228ClientMechanism("KEA-SKIPJACK", (_, _) => throw new InvalidOperationException("not reached"));
        Assert.Null(await other.NegotiateAsync(control, new SecurityNegotiationContext(Options()), CancellationToken.None));
        Assert.Null(control.Protection);
    }
}
