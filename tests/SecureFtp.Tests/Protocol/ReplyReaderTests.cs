using System.Text;
using SecureFtp;
using SecureFtp.Protocol;
using Xunit;

namespace SecureFtp.Tests.Protocol;

public class ReplyReaderTests
{
    private static Task<FtpReply> Parse(string text)
        => new FtpReplyReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), Encoding.UTF8).ReadReplyAsync(default);

    [Fact]
    public async Task SingleLine()
    {
        var r = await Parse("220 Welcome\r\n");
        Assert.Equal(220, r.Code);
        Assert.Equal("Welcome", r.Message);
    }

    [Fact]
    public async Task MultiLineWithIndentedAndFakeTerminators()
    {
        // "211 x" inside FEAT is indented, and "2110 ..." is not a terminator.
        var r = await Parse("211-Features:\r\n MDTM\r\n REST STREAM\r\n211-still going\r\n 211 not end\r\n211 End\r\n220 next\r\n");
        Assert.Equal(211, r.Code);
        Assert.Equal(new[] { "Features:", " MDTM", " REST STREAM", "still going", " 211 not end", "End" }, r.Lines);
    }

    [Fact]
    public async Task BareLfIsAccepted()
    {
        var r = await Parse("230 ok\n");
        Assert.Equal(230, r.Code);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n")]
    [InlineData("2x0 bad\r\n")]
    [InlineData("220:bad separator\r\n")]
    [InlineData("720 out of range\r\n")]
    public async Task GarbageIsRejected(string text)
    {
        var e = await Assert.ThrowsAsync<FtpException>(() => Parse(text));
        Assert.Equal("MalformedReply", e.ErrorId);
    }

    [Fact]
    public async Task OverlongLineIsRejected()
    {
        var e = await Assert.ThrowsAsync<FtpException>(() => Parse("220 " + new string('a', 10000) + "\r\n"));
        Assert.Equal("ReplyLineTooLong", e.ErrorId);
    }

    [Fact]
    public async Task UnterminatedMultiLineIsAConnectionError()
    {
        var e = await Assert.ThrowsAsync<FtpException>(() => Parse("220-hello\r\nmore\r\n"));
        Assert.Equal(FtpErrorKind.Connection, e.Kind);
    }

    [Fact]
    public async Task EndlessMultiLineIsBounded()
    {
        var sb = new StringBuilder("211-x\r\n");
        for (int i = 0; i < FtpReplyReader.MaxLinesPerReply + 5; i++) sb.Append(" l\r\n");
        var e = await Assert.ThrowsAsync<FtpException>(() => Parse(sb.ToString()));
        Assert.Equal("ReplyTooLong", e.ErrorId);
    }

    [Fact]
    public async Task EndlessMultiLineOfLongLinesIsBoundedByBytes()
    {
        var line = " " + new string('f', 8000) + "\r\n";
        var sb = new StringBuilder("211-x\r\n");
        for (int i = 0; i < FtpReplyReader.MaxReplyBytes / line.Length + 5; i++) sb.Append(line);
        var e = await Assert.ThrowsAsync<FtpException>(() => Parse(sb.ToString()));
        Assert.Equal("ReplyTooLong", e.ErrorId);
        Assert.Equal(FtpErrorKind.Protocol, e.Kind);
    }

    [Fact]
    public async Task LimitsAreSettableAndCountEachReplyOnItsOwn()
    {
        var text = "211-a\r\n b\r\n211 end\r\n211-a\r\n b\r\n c\r\n211 end\r\n";
        var reader = new FtpReplyReader(new MemoryStream(Encoding.ASCII.GetBytes(text)), Encoding.ASCII) { MaxLines = 3 };
        Assert.Equal(3, (await reader.ReadReplyAsync(default)).Lines.Count);   // three lines: within the limit
        var e = await Assert.ThrowsAsync<FtpException>(() => reader.ReadReplyAsync(default));
        Assert.Equal("ReplyTooLong", e.ErrorId);
        Assert.Contains("3 lines", e.Message);
    }

    [Fact]
    public void ReplyTextIsDisplayedWithoutControlCharacters()
    {
        var reply = new FtpReply(550, new[] { "\u001b[2Jgone", "\u009b31mred \u0007" });
        Assert.Equal("\u241B[2Jgone\n\uFFFD31mred \u2407", reply.DisplayMessage);
        Assert.Contains("\u001b", reply.Message);   // the raw text is kept
        var e = FtpException.FromReply("DELE x", reply);
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.Contains("\n", e.Message);             // lines stay lines
    }

    [Theory]
    [InlineData("PASS hunter2\r\nDELE x", "command")]
    [InlineData("hunter2\r\n", "password")]
    [InlineData("hunter2\0", "account")]
    public void ALineBreakInACredentialIsRefusedWithoutEchoingIt(string value, string what)
    {
        var e = Assert.Throws<FtpException>(() => FtpCommand.CheckArgument(value, what));
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void ALineBreakInAPathIsShownEscaped()
    {
        var e = Assert.Throws<FtpException>(() => FtpCommand.CheckArgument("a\r\nDELE b", "path"));
        Assert.Equal("InvalidArgument", e.ErrorId);
        Assert.Contains("a\\r\\nDELE b", e.Message);
    }

    [Fact]
    public async Task BytesBufferedAfterAReplyBlockATransportSwitch()
    {
        // STARTTLS-style injection: "234 go" followed in the same packet by a forged reply.
        var reader = new FtpReplyReader(new MemoryStream(Encoding.ASCII.GetBytes("234 go\r\n230 forged\r\n")), Encoding.ASCII);
        await reader.ReadReplyAsync(default);
        var e = Assert.Throws<FtpException>(() => reader.ReplaceStream(new MemoryStream()));
        Assert.Equal("DataAfterSecurityReply", e.ErrorId);
    }

    [Fact]
    public void PasswordsAreRedacted()
    {
        Assert.Equal("PASS ****", FtpCommand.Redact("PASS hunter2"));
        Assert.Equal("pass", FtpCommand.Verb("pass x").ToLowerInvariant());
        Assert.Equal("USER bob", FtpCommand.Redact("USER bob"));
    }
}
