using System.Security.Cryptography;
using System.Text;
using SecureFtp;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.Rfc2228;
using Xunit;

namespace SecureFtp.Tests.Kea;

/// <summary>KEA-SKIPJACK inside the real RFC 2228 framework (server negotiation, ENC/632 lines, protected data
/// streams), in process: the conventions between the two (lines without CRLF, one token per reply line,
/// ADAT in 334 and 235, the block sizing of ProtectedDataStream) are exercised as a server and client use them.</summary>
public class KeaFrameworkTests
{
    private static readonly KeaTestKit Kit = new();
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    private sealed class Session
    {
        public Rfc2228ServerNegotiation Server { get; } = new(name => KeaMechanism.TryCreateServer(name, Kit.ServerOptions()));
        public KeaClientSecurity Client { get; } = new(Kit.ClientOptions());
        public Rfc2228ControlProtection? Protection { get; private set; }

        public static FtpReply Parse(IReadOnlyList<string> wire) =>
            new FtpReplyReader(new MemoryStream(Utf8.GetBytes(string.Join("", wire.Select(l => l + "\r\n")))), Utf8)
                .ReadReplyAsync(default).GetAwaiter().GetResult();

        public void Establish()
        {
            var reply = Parse(Server.Receive("AUTH KEA-SKIPJACK").Reply!);
            Assert.Equal(334, reply.Code);
            Client.IncomingAdat(reply.AdatData!);
            reply = Parse(Server.Receive("ADAT " + Convert.ToBase64String(Client.GetNextOutgoingAdat())).Reply!);
            Assert.Equal(235, reply.Code);
            Client.IncomingAdat(reply.AdatData!);
            Assert.True(Client.IsEstablished && Server.IsEstablished);
            Protection = new Rfc2228ControlProtection(Client, ControlProtectionLevel.Private, Utf8);
        }

        /// <summary>Sends a protected command; returns the plain command the server's FTP layer sees.</summary>
        public Rfc2228ServerStep Send(string command) => Server.Receive(Protection!.ProtectCommand(command));

        public FtpReply Reply(int code, params string[] lines) => Protection!.UnprotectReply(Parse(Server.FormatReply(code, lines)));
    }

    [Fact]
    public void CommandsRepliesPbszAndProtThroughTheFramework()
    {
        var s = new Session();
        s.Establish();

        var pbsz = s.Protection!.UnprotectReply(Session.Parse(s.Send("PBSZ 65535").Reply!));
        Assert.Equal(200, pbsz.Code);
        Assert.Equal("PBSZ=65535", pbsz.Message);
        Assert.Equal(200, s.Protection.UnprotectReply(Session.Parse(s.Send("PROT P").Reply!)).Code);
        Assert.Equal(DataProtectionLevel.Private, s.Server.DataProtection);

        var user = s.Send("USER alice");
        Assert.Equal("USER alice", user.Command);
        Assert.True(user.WasProtected);
        Assert.True(((KeaServerSecurity)s.Server.Mechanism!).IsUserAllowed("alice"));
        Assert.Equal(331, s.Reply(331, "Password required").Code);

        Assert.Equal("PASS fortezza", s.Send("PASS fortezza").Command);
        Assert.Equal(230, s.Reply(230, "Logged in").Code);

        // A multi-line reply: one token per line, every line carrying the FEAT command's sequence number.
        Assert.Equal("FEAT", s.Send("FEAT").Command);
        var feat = s.Reply(211, "Features:", " PBSZ", " PROT", "End");
        Assert.Equal(211, feat.Code);
        Assert.Equal(new[] { "Features:", " PBSZ", " PROT", "End" }, feat.Lines);
    }

    [Fact]
    public void TamperedCommandIsAnsweredWith535AndTheClientReadsWhy()
    {
        var s = new Session();
        s.Establish();
        var wire = s.Protection!.ProtectCommand("DELE important.dat");
        var token = Convert.FromBase64String(wire.Substring(4));
        token[3] ^= 0x01;
        var step = s.Server.Receive("ENC " + Convert.ToBase64String(token));
        Assert.Null(step.Command);
        Assert.True(step.CloseConnection);
        var reply = s.Protection.UnprotectReply(Session.Parse(step.Reply!));
        Assert.Equal(535, reply.Code);
        Assert.Contains("KEA-SKIPJACK", reply.Message);
        Assert.Contains("integrity", reply.Message);
    }

    [Fact]
    public void ReplayedCommandLineIsRefusedByTheServer()
    {
        var s = new Session();
        s.Establish();
        var dele = s.Protection!.ProtectCommand("DELE a.txt");
        Assert.Equal("DELE a.txt", s.Server.Receive(dele).Command);
        s.Reply(250, "Deleted");
        var replay = s.Server.Receive(dele);
        Assert.Null(replay.Command);
        Assert.True(replay.CloseConnection);
    }

    [Fact]
    public void ReorderedReplyLinesAreRefusedByTheClient()
    {
        var s = new Session();
        s.Establish();
        s.Send("RETR a");
        var first = s.Server.FormatReply(150, "Opening");
        var second = s.Server.FormatReply(226, "Done");
        var e = Assert.Throws<FtpException>(() => s.Protection!.UnprotectReply(Session.Parse(second)));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.NotEmpty(first);
    }

    [Theory]
    [InlineData(0, 65535)]
    [InlineData(1, 65535)]
    [InlineData(200_000, 65535)]
    [InlineData(5_000, 512)]
    public async Task FilesThroughProtectedDataStreams(int size, int pbsz)
    {
        var s = new Session();
        s.Establish();
        s.Protection!.UnprotectReply(Session.Parse(s.Send($"PBSZ {pbsz}").Reply!));
        s.Protection.UnprotectReply(Session.Parse(s.Send("PROT P").Reply!));
        var file = RandomNumberGenerator.GetBytes(size);

        // Download: the server writes through the framework's stream, the client reads through its own.
        var wire = new MemoryStream();
        using (var sending = (ProtectedDataStream)s.Server.OpenDataStream(wire))
        {
            await sending.WriteAsync(file);
            await sending.CompleteAsync(default);
        }
        Assert.Equal(-1, IndexOf(wire.ToArray(), file));
        var received = new MemoryStream();
        using (var receiving = new ProtectedDataStream(new MemoryStream(wire.ToArray()),
                   () => s.Client.CreateDataTransform(DataProtectionLevel.Private, true),
                   () => s.Client.CreateDataTransform(DataProtectionLevel.Private, false), pbsz))
            await receiving.CopyToAsync(received);
        Assert.Equal(file, received.ToArray());
    }

    [Fact]
    public async Task TruncatedDownloadIsReportedAsTruncated()
    {
        var s = new Session();
        s.Establish();
        s.Protection!.UnprotectReply(Session.Parse(s.Send("PBSZ 4096").Reply!));
        s.Protection.UnprotectReply(Session.Parse(s.Send("PROT P").Reply!));
        var wire = new MemoryStream();
        using (var sending = (ProtectedDataStream)s.Server.OpenDataStream(wire))
        {
            await sending.WriteAsync(new byte[20_000]);
            await sending.CompleteAsync(default);
        }
        var cut = wire.ToArray()[..^36]; // the 32-octet end-of-file block and its length prefix removed
        using var receiving = new ProtectedDataStream(new MemoryStream(cut),
            () => s.Client.CreateDataTransform(DataProtectionLevel.Private, true),
            () => s.Client.CreateDataTransform(DataProtectionLevel.Private, false), 4096);
        var e = await Assert.ThrowsAsync<FtpException>(() => receiving.CopyToAsync(new MemoryStream()));
        Assert.Equal(FtpErrorKind.Truncated, e.Kind);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        if (needle.Length < 16) return -1;
        for (int i = 0; i <= haystack.Length - 16; i++)
            if (haystack.AsSpan(i, 16).SequenceEqual(needle.AsSpan(0, 16))) return i;
        return -1;
    }
}
