using System.Security.Cryptography;
using SecureFtp;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

/// <summary>RFC 2773 data buffers: the file token (Figure 7) at the start, one record per buffer, and the
/// end-of-file block (empty plaintext) carrying the file's SHA-1.</summary>
public class KeaDataChannelTests
{
    private static readonly KeaTestKit Kit = new();

    private static List<byte[]> Send(ITransform sender, byte[] file, int chunk)
    {
        var buffers = new List<byte[]>();
        for (int at = 0; at < file.Length; at += chunk)
            buffers.Add(sender.Encode(new ArraySegment<byte>(file, at, Math.Min(chunk, file.Length - at))));
        buffers.Add(sender.Encode(new ArraySegment<byte>(Array.Empty<byte>())));
        return buffers;
    }

    private static byte[] Receive(ITransform receiver, IEnumerable<byte[]> buffers)
    {
        var output = new MemoryStream();
        bool ended = false;
        foreach (var buffer in buffers)
        {
            Assert.False(ended, "data after the end-of-file block");
            var plain = receiver.Decode(new ArraySegment<byte>(buffer));
            if (plain.Length == 0) ended = true;
            output.Write(plain);
        }
        Assert.True(ended, "no end-of-file block");
        return output.ToArray();
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(1, 1000)]
    [InlineData(7, 1000)]
    [InlineData(8, 1000)]
    [InlineData(9, 4)]
    [InlineData(100_000, 8192)]
    [InlineData(65_000, 65_000)]
    public void DownloadAndUploadRoundTrip(int size, int chunk)
    {
        var (client, server) = Kit.Established();
        var file = RandomNumberGenerator.GetBytes(size);
        // RETR: the server sends, the client receives; STOR the other way.
        Assert.Equal(file, Receive(client.CreateDataTransform(DataProtectionLevel.Private, false),
            Send(server.CreateDataTransform(DataProtectionLevel.Private, true), file, chunk)));
        Assert.Equal(file, Receive(server.CreateDataTransform(DataProtectionLevel.Private, false),
            Send(client.CreateDataTransform(DataProtectionLevel.Private, true), file, chunk)));
    }

    [Fact]
    public void BuffersStayWithinTheNegotiatedSizeAndHideTheData()
    {
        var (client, server) = Kit.Established();
        var sender = server.CreateDataTransform(DataProtectionLevel.Private, true);
        int pbsz = server.MaxBufferSize;
        int chunk = sender.MaximumDecodedSize(pbsz);
        var file = new byte[3 * chunk + 5];
        Array.Fill(file, (byte)'A');
        var buffers = Send(sender, file, chunk);
        Assert.All(buffers, b => Assert.True(b.Length <= pbsz, $"{b.Length} > {pbsz}"));
        Assert.All(buffers.Take(3), b => Assert.True(b.Length >= chunk));
        Assert.Equal(5, buffers.Count);
        Assert.All(buffers, b => Assert.DoesNotContain("AAAAAAAA", System.Text.Encoding.Latin1.GetString(b)));
        // Token (24-octet IV field + 72 sealed octets for an absent label) then the first record.
        Assert.Equal(KeaFileToken.Length(KeaSecurityLabel.Absent) + chunk + Skipjack.PadLength(chunk), buffers[0].Length);
        Assert.Equal(96, KeaFileToken.Length(KeaSecurityLabel.Absent));
        Assert.Equal(32, buffers[^1].Length);
        Assert.Equal(file, Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
    }

    [Fact]
    public void EmptyFileIsTokenPlusEndOfFileBlock()
    {
        var (client, server) = Kit.Established();
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), Array.Empty<byte>(), 100);
        var only = Assert.Single(buffers);
        Assert.Equal(96 + 32, only.Length);
        Assert.Empty(Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
    }

    [Fact]
    public void FlippedBitInFileDataIsRejected()
    {
        var (client, server) = Kit.Established();
        var file = RandomNumberGenerator.GetBytes(5000);
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), file, 1000);
        buffers[2][100] ^= 0x01;
        var e = Assert.Throws<FtpException>(() => Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains("altered", e.Message);
    }

    [Fact]
    public void FlippedBitInTheFileTokenIsRejected()
    {
        var (client, server) = Kit.Established();
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), new byte[100], 1000);
        buffers[0][40] ^= 0x02;
        var e = Assert.Throws<FtpException>(() => Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains("file token", e.Message);
    }

    [Fact]
    public void DroppedOrReorderedBuffersAreRejected()
    {
        var (client, server) = Kit.Established();
        var file = RandomNumberGenerator.GetBytes(4000);
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), file, 1000);

        var dropped = buffers.Where((_, i) => i != 2).ToList();
        Assert.Equal(FtpErrorKind.Security, Assert.Throws<FtpException>(() =>
            Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), dropped)).Kind);

        var swapped = buffers.ToList();
        (swapped[1], swapped[2]) = (swapped[2], swapped[1]);
        Assert.Equal(FtpErrorKind.Security, Assert.Throws<FtpException>(() =>
            Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), swapped)).Kind);
    }

    [Fact]
    public void ReplayedOrReflectedTransferIsRejected()
    {
        var (client, server) = Kit.Established();
        var file = RandomNumberGenerator.GetBytes(300);
        var download = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), file, 1000);
        Assert.Equal(file, Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), download));

        // The same download replayed on the next data connection.
        var replay = Assert.Throws<FtpException>(() => Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), download));
        Assert.Equal("KeaReplayedFile", replay.ErrorId);

        // An upload reflected back to the client as a download.
        var upload = Send(client.CreateDataTransform(DataProtectionLevel.Private, true), file, 1000);
        var reflected = Assert.Throws<FtpException>(() => Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), upload));
        Assert.Equal("KeaReplayedFile", reflected.ErrorId);
    }

    [Fact]
    public void TransferFromAnotherSessionIsRejected()
    {
        var (_, server) = Kit.Established();
        var (otherClient, _) = Kit.Established();
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), new byte[64], 1000);
        var e = Assert.Throws<FtpException>(() => Receive(otherClient.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
    }

    [Fact]
    public void DataAfterTheEndOfFileBlockIsRejected()
    {
        var (client, server) = Kit.Established();
        var buffers = Send(server.CreateDataTransform(DataProtectionLevel.Private, true), new byte[64], 1000);
        var receiver = client.CreateDataTransform(DataProtectionLevel.Private, false);
        foreach (var b in buffers) receiver.Decode(new ArraySegment<byte>(b));
        var e = Assert.Throws<FtpException>(() => receiver.Decode(new ArraySegment<byte>(buffers[0])));
        Assert.Equal("KeaDataAfterEnd", e.ErrorId);
    }

    [Fact]
    public void UnsupportedLevelsAreRefusedClearly()
    {
        var (client, _) = Kit.Established();
        var e = Assert.Throws<FtpException>(() => client.CreateDataTransform(DataProtectionLevel.Safe, true));
        Assert.Equal(FtpErrorKind.NotSupported, e.Kind);
        Assert.Contains("PROT S", e.Message);
    }
}
