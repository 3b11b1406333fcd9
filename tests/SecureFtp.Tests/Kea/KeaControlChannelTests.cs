using System.Text;
using SecureFtp;
using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

/// <summary>RFC 2773 Figures 4 and 5: Encrypt(line || SEQ || pad || ICV) both ways, sequence numbers echoed.</summary>
public class KeaControlChannelTests
{
    private static readonly KeaTestKit Kit = new();

    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);
    private static string Text(byte[] b) => Encoding.ASCII.GetString(b);

    [Fact]
    public void CommandsAndRepliesRoundTripAsTheFrameworkPassesThem()
    {
        var (client, server) = Kit.Established();
        foreach (var (command, reply) in new[] { ("PBSZ 65535", "200 PBSZ=65535"), ("USER alice", "331 Password required"),
                     ("PASS fortezza", "230 Logged in"), ("PROT P", "200 Protection set to Private") })
        {
            var token = client.Encode(new ArraySegment<byte>(Bytes(command)));
            Assert.True(token.Length <= client.MaximumEncodedSize(command.Length));
            Assert.Equal(0, token.Length % 8);
            // Lines go in and come out without CRLF (Rfc2228Lines); the CRLF travels inside the token.
            Assert.Equal(command, Text(server.Decode(new ArraySegment<byte>(token))));
            var protectedReply = server.Encode(new ArraySegment<byte>(Bytes(reply)));
            Assert.Equal(reply, Text(client.Decode(new ArraySegment<byte>(protectedReply))));
        }
    }

    [Fact]
    public void PasswordNeverAppearsInTheToken()
    {
        var (client, _) = Kit.Established();
        var token = client.Encode(new ArraySegment<byte>(Bytes("PASS fortezza")));
        Assert.DoesNotContain("fortezza", Encoding.Latin1.GetString(token));
    }

    [Fact]
    public void SequenceNumbersStartFromRaAndRepliesEchoThem()
    {
        byte[]? clientAdat = null;
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        KeaTestKit.Exchange(client, server, (step, data) => { if (step == 2) clientAdat = data; return data; });
        int certLength = Kit.Alice.GetCertificateDer().Length;
        ushort initial = (ushort)(clientAdat![certLength + 126] << 8 | clientAdat[certLength + 127]);

        // An observer holding the MEK follows the client's CBC chain: IV from the ADAT, the label list, then
        // each command in turn.
        int ivAt = certLength + 128 + 12;
        var observer = new SkipjackCbcStream(client.Mek!, clientAdat.Skip(ivAt + 16).Take(8).ToArray(), encrypt: false);
        var label = clientAdat.Skip(ivAt + 24).ToArray();
        observer.Process(label, 0, label.Length);

        for (int i = 0; i < 3; i++)
        {
            var token = client.Encode(new ArraySegment<byte>(Bytes("NOOP")));
            var plain = (byte[])token.Clone();
            observer.Process(plain, 0, plain.Length);
            // "NOOP\r\n" (6) || SEQ (2) || pad (eight 0x08) || ICV
            Assert.Equal("NOOP\r\n", Text(plain.Take(6).ToArray()));
            Assert.Equal((ushort)(initial + i), (ushort)(plain[6] << 8 | plain[7]));
            Assert.Equal(new byte[] { 8, 8, 8, 8, 8, 8, 8, 8 }, plain.Skip(8).Take(8).ToArray());
            server.Decode(new ArraySegment<byte>(token));
            // Two replies to one command (150 then 226) both echo its number.
            client.Decode(new ArraySegment<byte>(server.Encode(new ArraySegment<byte>(Bytes("150 Opening\r\n")))));
            client.Decode(new ArraySegment<byte>(server.Encode(new ArraySegment<byte>(Bytes("226 Done\r\n")))));
        }
    }

    [Fact]
    public void FlippedBitInACommandIsRejected()
    {
        var (client, server) = Kit.Established();
        var token = client.Encode(new ArraySegment<byte>(Bytes("RETR secret.txt")));
        token[5] ^= 0x04;
        var e = Assert.Throws<FtpException>(() => server.Decode(new ArraySegment<byte>(token)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains("command", e.Message);
        // The server can still answer (a protected 535) and the client reads it ...
        var goodbye = server.Encode(new ArraySegment<byte>(Bytes("535 Failed security check")));
        Assert.Equal("535 Failed security check", Text(client.Decode(new ArraySegment<byte>(goodbye))));
        // ... but the session is over: the next command fails too.
        var next = client.Encode(new ArraySegment<byte>(Bytes("NOOP")));
        Assert.Equal("KeaSessionFailed", Assert.Throws<FtpException>(() => server.Decode(new ArraySegment<byte>(next))).ErrorId);
    }

    [Fact]
    public void FlippedBitInAReplyIsRejected()
    {
        var (client, server) = Kit.Established();
        server.Decode(new ArraySegment<byte>(client.Encode(new ArraySegment<byte>(Bytes("PWD")))));
        var reply = server.Encode(new ArraySegment<byte>(Bytes("257 \"/home/alice\"\r\n")));
        reply[^3] ^= 0x80;
        var e = Assert.Throws<FtpException>(() => client.Decode(new ArraySegment<byte>(reply)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains("reply", e.Message);
    }

    [Fact]
    public void ReplayedCommandIsRejected()
    {
        var (client, server) = Kit.Established();
        var dele = client.Encode(new ArraySegment<byte>(Bytes("DELE important.dat")));
        Assert.Equal("DELE important.dat", Text(server.Decode(new ArraySegment<byte>(dele))));
        server.Encode(new ArraySegment<byte>(Bytes("250 Deleted\r\n")));
        var e = Assert.Throws<FtpException>(() => server.Decode(new ArraySegment<byte>(dele)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Matches("replayed|altered", e.Message);
    }

    [Fact]
    public void ReorderedRepliesAreRejected()
    {
        var (client, server) = Kit.Established();
        server.Decode(new ArraySegment<byte>(client.Encode(new ArraySegment<byte>(Bytes("RETR a")))));
        var first = server.Encode(new ArraySegment<byte>(Bytes("150 Opening\r\n")));
        var second = server.Encode(new ArraySegment<byte>(Bytes("226 Transfer complete\r\n")));
        var e = Assert.Throws<FtpException>(() => client.Decode(new ArraySegment<byte>(second)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains("reordered", e.Message);
        Assert.NotNull(first);
    }

    [Fact]
    public void ReplyToAnEarlierCommandIsRejectedBySequenceNumber()
    {
        // A reply sealed for command n delivered after command n+1 was sent: right chain position, wrong number.
        var (client, server) = Kit.Established();
        server.Decode(new ArraySegment<byte>(client.Encode(new ArraySegment<byte>(Bytes("NOOP")))));
        var staleReply = server.Encode(new ArraySegment<byte>(Bytes("200 NOOP ok\r\n")));
        client.Encode(new ArraySegment<byte>(Bytes("DELE x"))); // client moves on before reading the reply
        var e = Assert.Throws<FtpException>(() => client.Decode(new ArraySegment<byte>(staleReply)));
        Assert.Equal("KeaSequenceMismatch", e.ErrorId);
        Assert.Contains("replayed or reordered", e.Message);
    }

    [Fact]
    public void DroppedCommandIsDetected()
    {
        var (client, server) = Kit.Established();
        client.Encode(new ArraySegment<byte>(Bytes("CWD /")));
        var second = client.Encode(new ArraySegment<byte>(Bytes("DELE x")));
        var e = Assert.Throws<FtpException>(() => server.Decode(new ArraySegment<byte>(second)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
    }

    [Fact]
    public void EncodeBeforeTheExchangeIsAStateError()
    {
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var e = Assert.Throws<FtpException>(() => client.Encode(new ArraySegment<byte>(Bytes("NOOP"))));
        Assert.Equal("KeaUnexpectedState", e.ErrorId);
    }

    [Fact]
    public void OnlyClearAndPrivateAreSupported()
    {
        var (client, _) = Kit.Established();
        Assert.True(client.Supports(SecureFtp.Security.DataProtectionLevel.Private));
        Assert.True(client.Supports(SecureFtp.Security.DataProtectionLevel.Clear));
        Assert.False(client.Supports(SecureFtp.Security.DataProtectionLevel.Safe));
        Assert.False(client.Supports(SecureFtp.Security.DataProtectionLevel.Confidential));
        Assert.Equal(65535, client.MaxBufferSize);
    }
}
