using System.Net;
using SecureFtp;
using SecureFtp.Data;
using Xunit;

namespace SecureFtp.Tests.Client;

public class PassiveReplyTests
{
    private static FtpReply R(int code, string text) => new(code, new[] { text });

    [Fact]
    public void PasvAddressAndPort()
    {
        var ep = PassiveReplyParser.ParsePasv(R(227, "Entering Passive Mode (192,168,1,20,117,48)."));
        Assert.Equal(IPAddress.Parse("192.168.1.20"), ep.Address);
        Assert.Equal(117 * 256 + 48, ep.Port);
    }

    [Theory]
    [InlineData("Entering Passive Mode (300,1,1,1,1,1)")]
    [InlineData("Entering Passive Mode")]
    [InlineData("Entering Passive Mode (1,2,3,4,0,0)")]
    public void BadPasvRepliesAreProtocolErrors(string text)
    {
        var e = Assert.Throws<FtpException>(() => PassiveReplyParser.ParsePasv(R(227, text)));
        Assert.Equal(FtpErrorKind.Protocol, e.Kind);
    }

    [Fact]
    public void EpsvPort()
    {
        Assert.Equal(30155, PassiveReplyParser.ParseEpsv(R(229, "Entering Extended Passive Mode (|||30155|)")));
        Assert.Equal(6446, PassiveReplyParser.ParseEpsv(R(229, "Entering Extended Passive Mode (!!!6446!)")));
        Assert.Throws<FtpException>(() => PassiveReplyParser.ParseEpsv(R(229, "Entering Extended Passive Mode (|||99999|)")));
    }

    [Fact]
    public void PortAndEprtArguments()
    {
        var ep = new IPEndPoint(IPAddress.Parse("127.0.0.1"), 30000);
        Assert.Equal("127,0,0,1,117,48", PassiveReplyParser.FormatPort(ep));
        Assert.Equal("|1|127.0.0.1|30000|", PassiveReplyParser.FormatEprt(ep));
        Assert.Equal("|2|::1|21|", PassiveReplyParser.FormatEprt(new IPEndPoint(IPAddress.IPv6Loopback, 21)));
    }

    [Fact]
    public void QuotedPathWithEmbeddedQuotes()
        => Assert.Equal("/a \"b\" c", FtpClient.ParseQuotedPath(R(257, "\"/a \"\"b\"\" c\" is the current directory")));
}
