using System.Security.Cryptography;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Tests.SafeTp;
using Xunit;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>The RFC 2228 s.9 block framing on its own, with X-SafeTP1's transforms inside.</summary>
public class ProtectedDataStreamTests
{
    private static (IRfc2228Security Client, IRfc2228Security Server) Session()
    {
        var client = SafeTpTestKit.Client();
        var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);
        return (client, server);
    }

    private static ProtectedDataStream Writer(IRfc2228Security side, Stream raw, int pbsz)
        => new(raw, () => side.CreateDataTransform(DataProtectionLevel.Private, true), () => side.CreateDataTransform(DataProtectionLevel.Private, false), pbsz);

    private static List<(int Length, byte[] Token)> Frames(byte[] wire)
    {
        var frames = new List<(int, byte[])>();
        for (int i = 0; i < wire.Length;)
        {
            int length = wire[i] << 24 | wire[i + 1] << 16 | wire[i + 2] << 8 | wire[i + 3];
            frames.Add((length, wire.AsSpan(i + 4, length).ToArray()));
            i += 4 + length;
        }
        return frames;
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(65536)]
    [InlineData(131072)]
    public void Every_block_fits_the_negotiated_PBSZ_and_the_file_ends_with_an_empty_block(int pbsz)
    {
        var (client, server) = Session();
        var content = RandomNumberGenerator.GetBytes(300_000);
        var wire = new MemoryStream();
        using (var writer = Writer(server, wire, pbsz))
        {
            writer.Write(content, 0, 1000);
            writer.Write(content, 1000, content.Length - 1000);
        }
        var frames = Frames(wire.ToArray());
        Assert.All(frames, f => Assert.InRange(f.Length, 1, pbsz));
        Assert.True(frames.Count >= content.Length / pbsz + 1);

        // Each frame decodes on its own; only the last is empty: the end-of-file block.
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        var plaintexts = frames.Select(f => receive.Decode(new(f.Token))).ToList();
        Assert.All(plaintexts.Take(plaintexts.Count - 1), p => Assert.NotEmpty(p));
        Assert.Empty(plaintexts[^1]);
        Assert.Equal(content, plaintexts.SelectMany(p => p).ToArray());
    }

    [Fact]
    public void The_stream_reads_back_what_was_written_and_reports_the_end_of_file()
    {
        var (client, server) = Session();
        var content = RandomNumberGenerator.GetBytes(50_000);
        var wire = new MemoryStream();
        using (var writer = Writer(client, wire, 4096)) writer.Write(content);
        using var reader = Writer(server, new MemoryStream(wire.ToArray()), 4096);
        var received = new MemoryStream();
        reader.CopyTo(received);
        Assert.Equal(content, received.ToArray());
        Assert.True(reader.ReachedEndOfFile);
        Assert.Equal(0, reader.Read(new byte[10], 0, 10));
    }

    [Fact]
    public void A_connection_closed_before_the_end_of_file_block_is_a_truncated_transfer()
    {
        var (client, server) = Session();
        var wire = new MemoryStream();
        var writer = Writer(server, wire, 8192);
        writer.Write(new byte[20_000]);
        writer.Flush();
        writer.Abort();
        writer.Dispose();

        using var reader = Writer(client, new MemoryStream(wire.ToArray()), 8192);
        var e = Assert.Throws<FtpException>(() => reader.CopyTo(Stream.Null));
        Assert.Equal((FtpErrorKind.Truncated, "TransferTruncated"), (e.Kind, e.ErrorId));

        // Cut in the middle of a block too.
        var cut = wire.ToArray().AsSpan(0, 5000).ToArray();
        using var reader2 = Writer(Session().Client, new MemoryStream(cut), 8192);
        Assert.Equal(FtpErrorKind.Truncated, Assert.Throws<FtpException>(() => reader2.CopyTo(Stream.Null)).Kind);
    }

    [Fact]
    public void A_block_larger_than_PBSZ_is_refused_before_it_is_read()
    {
        var (client, server) = Session();
        var wire = new MemoryStream();
        using (var writer = Writer(server, wire, 65536)) writer.Write(new byte[60_000]);
        using var reader = Writer(client, new MemoryStream(wire.ToArray()), 4096);
        var e = Assert.Throws<FtpException>(() => reader.CopyTo(Stream.Null));
        Assert.Equal((FtpErrorKind.Security, "ProtectedBlockSize"), (e.Kind, e.ErrorId));
    }

    [Fact]
    public void A_tampered_data_block_fails_with_a_security_error()
    {
        var (client, server) = Session();
        var wire = new MemoryStream();
        using (var writer = Writer(server, wire, 8192)) writer.Write(new byte[10_000]);
        var bytes = wire.ToArray();
        bytes[100] ^= 0x20;
        using var reader = Writer(client, new MemoryStream(bytes), 8192);
        var e = Assert.Throws<FtpException>(() => reader.CopyTo(Stream.Null));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
    }
}
