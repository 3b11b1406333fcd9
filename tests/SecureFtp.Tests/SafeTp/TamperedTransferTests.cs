using System.Security.Cryptography;
using SecureFtp.Tests.Rfc2228;
using Xunit;

namespace SecureFtp.Tests.SafeTp;

/// <summary>A download whose protected data is altered on the wire, through the real client: the transfer fails
/// with the block's error, and the session is over (no further command goes out under its keys).</summary>
public sealed class TamperedTransferTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetp-tamper").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Flips one bit of the byte at <paramref name="offset"/> of what is written through it.</summary>
    private sealed class BitFlipStream(Stream inner, long offset) : Stream
    {
        private long _position;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int o, int c) => throw new NotSupportedException();
        public override long Seek(long o, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int o, int c) => WriteAsync(buffer, o, c).GetAwaiter().GetResult();
        public override async Task WriteAsync(byte[] buffer, int o, int c, CancellationToken ct = default)
        {
            var copy = buffer.AsSpan(o, c).ToArray();
            if (offset >= _position && offset < _position + c) copy[offset - _position] ^= 0x10;
            _position += c;
            await inner.WriteAsync(copy, ct);
        }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
            => new(WriteAsync(buffer.ToArray(), 0, buffer.Length, ct));
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }

    [Fact]
    public async Task A_download_block_altered_on_the_wire_fails_the_transfer_and_ends_the_session()
    {
        await using var server = new MiniRfc2228Server(SafeTpTestKit.ServerKey)
        {
            Download = RandomNumberGenerator.GetBytes(100_000),
            WrapDownloadConnection = raw => new BitFlipStream(raw, 4 + 200), // inside the first token, after its length
        };
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1", Port = server.Port, Mechanisms = new List<FtpMechanism> { FtpMechanism.SafeTp },
            Credential = new System.Net.NetworkCredential("alice", "secret-pw"), AcceptNewKey = true,
            TrustStorePath = Path.Combine(_dir, "trust"), ClientKeyPath = Path.Combine(_dir, "client.key"),
            DataConnectionMode = DataConnectionMode.Passive,
        };
        using var client = await FtpClient.ConnectAsync(options);
        var download = new MemoryStream();
        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadAsync("file.bin", download));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains(e.ErrorId, new[] { "ProtectedBlockModified", "SafeTpSessionEnded" });
        Assert.NotEqual(server.Download, download.ToArray());

        int linesBefore;
        lock (server.WireLines) linesBefore = server.WireLines.Count;
        // The client could not even send ABOR under the ended keys, so it closed the control connection: the next
        // command fails (today with ObjectDisposedException from the closed connection; any failure will do here).
        await Assert.ThrowsAnyAsync<Exception>(() => client.NoOpAsync());
        await Task.Delay(200);
        lock (server.WireLines) Assert.Equal(linesBefore, server.WireLines.Count); // nothing more went out
    }
}
