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
