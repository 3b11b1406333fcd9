using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Tls;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>What no stock FTP server can be made to do on demand: cut a TLS data connection without
/// close_notify, answer AUTH with 334 or 502, accept CCC. The peer here is a real TLS server (the platform's
/// SslStream) on a loopback socket, driven line by line. The client runs on libssl wherever it exists (SslStream
/// elsewhere) whatever the host; the two host forms exercise its two handshakes: a DNS name is sent as SNI, an IP
/// literal is not (RFC 6066 s.3).</summary>
public class TlsPeerBehaviourTests
{
    public static TheoryData<string> Hosts => new() { "localhost", "127.0.0.1" };

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Data_cut_without_close_notify_is_reported_as_truncated(string host)
    {
        await using var peer = await ScriptedPeer.StartAsync("234 go ahead");
        using var client = await ScriptedClient.NegotiateAsync(peer, host);
        var payload = RandomNumberGenerator.GetBytes(300_000);

        var data = await client.OpenDataAsync(peer, async (server, raw) =>
        {
            await server.WriteAsync(payload);
            await server.FlushAsync();
            raw.Dispose(); // TCP FIN, no close_notify
        });
        var received = new MemoryStream();
        var e = await Assert.ThrowsAnyAsync<FtpException>(() => data.CopyToAsync(received));
        Assert.Equal(FtpErrorKind.Truncated, e.Kind);
        Assert.Equal("TransferTruncated", e.ErrorId);
        Assert.Contains(host, e.Message);
        // Everything before the cut was delivered; only the end is missing, and that is what the error is for.
        Assert.Equal(payload, received.ToArray());
        await data.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Data_ended_with_close_notify_reads_to_a_clean_end(string host)
    {
        await using var peer = await ScriptedPeer.StartAsync("234 go ahead");
        using var client = await ScriptedClient.NegotiateAsync(peer, host);
        var payload = RandomNumberGenerator.GetBytes(300_000);
        bool? clientSentCloseNotify = null;

        var data = await client.OpenDataAsync(peer, async (server, raw) =>
        {
            await server.WriteAsync(payload);
            await server.ShutdownAsync(); // close_notify
            // The client's close_notify makes SslStream return 0 without the transport ending first.
            var buffer = new byte[100];
            clientSentCloseNotify = await server.ReadAsync(buffer) == 0;
            raw.Dispose();
        });
        var received = new MemoryStream();
        await data.CopyToAsync(received);
        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, await data.ReadAsync(new byte[10]));
        await data.DisposeAsync();
        await peer.DataDone;
        Assert.True(clientSentCloseNotify);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Ccc_closes_tls_both_ways_and_keeps_the_tcp_connection(string host)
    {
        await using var peer = await ScriptedPeer.StartAsync("234 go ahead");
        using var client = await ScriptedClient.NegotiateAsync(peer, host);
        Assert.Equal(200, (await client.Control.ExecuteAsync("NOOP", CancellationToken.None)).Code);
        var reply = await client.Control.ExecuteAsync("CCC", CancellationToken.None);
        Assert.Equal(200, reply.Code);
        await client.Security.ClearCommandChannelAsync(client.Control, CancellationToken.None);

        Assert.IsType<NetworkStream>(client.Control.Transport);
        var clear = await client.Control.ExecuteAsync("NOOP", CancellationToken.None);
        Assert.Equal("200 cleartext NOOP", clear.ToString());
    }

    [Fact]
    public async Task Auth_ssl_accepts_the_old_334_reply()
    {
        await using var peer = await ScriptedPeer.StartAsync("334 SSL go ahead");
        using var client = await ScriptedClient.NegotiateAsync(peer, "localhost", "SSL");
        Assert.True(client.Security.ImpliesPrivateData);
        Assert.Equal("AUTH SSL", peer.AuthCommand);
        Assert.Equal(200, (await client.Control.ExecuteAsync("NOOP", CancellationToken.None)).Code);
    }

    [Theory]
    [InlineData("TLS-C", "AUTH TLS-C")]
    [InlineData("tls-p", "AUTH TLS-P")]
    public async Task Aliases_are_sent_as_named(string name, string expected)
    {
        await using var peer = await ScriptedPeer.StartAsync("234 go ahead");
        using var client = await ScriptedClient.NegotiateAsync(peer, "localhost", name);
        Assert.Equal(expected, peer.AuthCommand);
        Assert.Equal(string.Equals(name, "TLS-P", StringComparison.OrdinalIgnoreCase), client.Security.ImpliesPrivateData);
    }

    [Theory]
    [InlineData("502 not implemented")]
    [InlineData("504 unknown mechanism")]
    [InlineData("500 what")]
    [InlineData("534 policy says no")]
    [InlineData("431 no TLS resources")]
    [InlineData("530 Please login with USER and PASS.")] // vsftpd with ssl_enable=NO
    public async Task Unavailable_mechanism_returns_null_for_the_policy_to_decide(string answer)
    {
        await using var peer = await ScriptedPeer.StartAsync(answer);
        var (control, context) = await ScriptedClient.OpenAsync(peer, "localhost");
        using (control)
            Assert.Null(await new TlsClientMechanism("TLS").NegotiateAsync(control, context, CancellationToken.None));
    }

    [Theory]
    [InlineData("334 adat please", FtpErrorKind.Protocol)] // 334 is only the old AUTH SSL answer
    [InlineData("235 done already", FtpErrorKind.Protocol)]
    [InlineData("421 closing", FtpErrorKind.Connection)]
    public async Task Answer_that_neither_starts_nor_refuses_tls_is_an_error(string answer, FtpErrorKind kind)
    {
        await using var peer = await ScriptedPeer.StartAsync(answer);
        var (control, context) = await ScriptedClient.OpenAsync(peer, "localhost");
        using (control)
        {
            var e = await Assert.ThrowsAsync<FtpException>(() => new TlsClientMechanism("TLS").NegotiateAsync(control, context, CancellationToken.None));
            Assert.Equal(kind, e.Kind);
            Assert.Equal("UnexpectedAuthReply", e.ErrorId);
            Assert.Contains(answer.Substring(0, 3), e.Message);
        }
    }
}

/// <summary>The client half: a control connection negotiated with the mechanism under test.</summary>
internal sealed class ScriptedClient : IDisposable
{
    public required FtpControlConnection Control { get; init; }
    public required ISecuritySession Security { get; init; }

    public static async Task<(FtpControlConnection, SecurityNegotiationContext)> OpenAsync(ScriptedPeer peer, string host)
    {
        var control = await FtpControlConnection.OpenAsync(host, peer.ControlPort, TimeSpan.FromSeconds(20), Encoding.UTF8, CancellationToken.None);
        Assert.Equal(220, (await control.ReadReplyAsync(CancellationToken.None)).Code);
        var options = TlsTestSession.Options(host);
        return (control, new SecurityNegotiationContext(options));
    }

    public static async Task<ScriptedClient> NegotiateAsync(ScriptedPeer peer, string host, string mechanism = "TLS")
    {
        var (control, context) = await OpenAsync(peer, host);
        var security = await new TlsClientMechanism(mechanism) { TrustAnchors = TestPki.Anchors }.NegotiateAsync(control, context, CancellationToken.None);
        Assert.NotNull(security);
        return new ScriptedClient { Control = control, Security = security! };
    }

    /// <summary>Connects to the peer's data port and runs <paramref name="serve"/> as the TLS server there.</summary>
    public async Task<Stream> OpenDataAsync(ScriptedPeer peer, Func<SslStream, Socket, Task> serve)
    {
        peer.ServeData(serve);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, peer.DataPort);
        return await Security.OpenDataStreamAsync(new NetworkStream(socket, ownsSocket: true), DataProtectionLevel.Private, DataStreamRole.Client, CancellationToken.None);
    }

    public void Dispose()
    {
        Security.Dispose();
        Control.Dispose();
    }
}

/// <summary>A TLS-speaking FTP peer for behaviours no stock server shows on demand. It answers AUTH with the
/// given reply, then NOOP with 200 and CCC with 200 followed by a close_notify exchange and cleartext.</summary>
internal sealed class ScriptedPeer : IAsyncDisposable
{
    private readonly TcpListener _control = new(IPAddress.Loopback, 0);
    private readonly TcpListener _data = new(IPAddress.Loopback, 0);
    private readonly string _authReply;
    private readonly CancellationTokenSource _stop = new();
    private Task _controlTask = Task.CompletedTask;

    private ScriptedPeer(string authReply) { _authReply = authReply; }

    public int ControlPort => ((IPEndPoint)_control.LocalEndpoint).Port;
    public int DataPort => ((IPEndPoint)_data.LocalEndpoint).Port;
    public string? AuthCommand { get; private set; }
    public Task DataDone { get; private set; } = Task.CompletedTask;

    public static Task<ScriptedPeer> StartAsync(string authReply)
    {
        var peer = new ScriptedPeer(authReply);
        peer._control.Start();
        peer._data.Start();
        peer._controlTask = peer.RunControlAsync();
        return Task.FromResult(peer);
    }

    public void ServeData(Func<SslStream, Socket, Task> serve)
    {
        DataDone = Task.Run(async () =>
        {
            var socket = await _data.AcceptSocketAsync(_stop.Token);
            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: true);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TestPki.Server }, _stop.Token);
            await serve(ssl, socket);
        });
    }

    private async Task RunControlAsync()
    {
        using var socket = await _control.AcceptSocketAsync(_stop.Token);
        var raw = new NetworkStream(socket, ownsSocket: false);
        await WriteLineAsync(raw, "220 scripted TLS peer");
        AuthCommand = await ReadLineAsync(raw);
        await WriteLineAsync(raw, _authReply);
        if (!_authReply.StartsWith("234", StringComparison.Ordinal) && !(_authReply.StartsWith("334", StringComparison.Ordinal) && AuthCommand is "AUTH SSL" or "AUTH TLS-P"))
        {
            await ReadLineAsync(raw); // hold the connection until the client leaves
            return;
        }
        // SslStream reads ahead; bounded to one TLS record per read, it cannot swallow the cleartext after CCC.
        var ssl = new SslStream(new RecordBoundedStream(raw), leaveInnerStreamOpen: true);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TestPki.Server }, _stop.Token);
        Stream channel = ssl;
        while (await ReadLineAsync(channel) is { } line)
        {
            if (line == "CCC")
            {
                await WriteLineAsync(channel, "200 CCC ok");
                await ssl.ShutdownAsync();
                Assert.Equal(0, await ssl.ReadAsync(new byte[64])); // the client's close_notify
                channel = raw;
                continue;
            }
            await WriteLineAsync(channel, channel == raw ? "200 cleartext " + line : "200 ok");
        }
    }

    private static async Task WriteLineAsync(Stream s, string line)
    {
        await s.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        await s.FlushAsync();
    }

    private static async Task<string?> ReadLineAsync(Stream s)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            int n;
            try { n = await s.ReadAsync(one); }
            catch (IOException) { return null; }
            if (n == 0) return sb.Length > 0 ? sb.ToString() : null;
            if (one[0] == '\n') return sb.ToString().TrimEnd('\r');
            sb.Append((char)one[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _control.Stop();
        _data.Stop();
        try { await _controlTask; } catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException) { }
        try { await DataDone; } catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException) { }
    }
}

/// <summary>Hands out at most the rest of the current TLS record per read, so a TLS library on top never
/// reads past a record boundary (a real server's OpenSSL with a socket BIO behaves that way).</summary>
internal sealed class RecordBoundedStream(Stream inner) : Stream
{
    private readonly byte[] _header = new byte[5];
    private int _headerFilled;
    private int _bodyLeft;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_bodyLeft == 0)
        {
            int want = 5 - _headerFilled;
            int n = await inner.ReadAsync(buffer.Slice(0, Math.Min(want, buffer.Length)), ct);
            if (n == 0) return 0;
            buffer.Span.Slice(0, n).CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += n;
            if (_headerFilled == 5)
            {
                _bodyLeft = (_header[3] << 8) | _header[4];
                _headerFilled = 0;
            }
            return n;
        }
        int m = await inner.ReadAsync(buffer.Slice(0, Math.Min(_bodyLeft, buffer.Length)), ct);
        _bodyLeft -= m;
        return m;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => inner.WriteAsync(buffer, ct);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.WriteAsync(buffer, offset, count, ct);
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
