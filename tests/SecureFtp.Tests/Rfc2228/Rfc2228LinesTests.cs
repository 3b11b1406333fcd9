using SecureFtp.Security.Rfc2228;
using Xunit;

namespace SecureFtp.Tests.Rfc2228;

public class Rfc2228LinesTests
{
    [Fact]
    public void A_multi_line_reply_is_formatted_with_the_code_on_every_line_and_parsed_back()
    {
        var wire = Rfc2228Lines.FormatReply(211, new[] { "Features:", " MDTM", "End" });
        Assert.Equal(new[] { "211-Features:", "211- MDTM", "211 End" }, wire);
        var reply = Rfc2228Lines.ParseDecodedReply(wire, 632);
        Assert.Equal(211, reply.Code);
        Assert.Equal(new[] { "Features:", " MDTM", "End" }, reply.Lines);
        Assert.True(reply.WasProtected);
    }

    [Fact]
    public void Continuation_lines_without_a_code_are_kept_as_text()
    {
        var reply = Rfc2228Lines.ParseDecodedReply(new[] { "214-Help:", "  USER PASS", "214 End" }, 632);
        Assert.Equal(new[] { "Help:", "  USER PASS", "End" }, reply.Lines);
    }

    [Theory]
    [InlineData("230-Welcome")]          // a multi-line reply that never ends
    [InlineData("230 Done|230 Again")]   // two replies in one protected reply
    [InlineData("Hello")]                // not a reply at all
    [InlineData("230-Hi|text")]          // last line without the closing code
    public void Decoded_lines_that_are_not_exactly_one_reply_are_refused(string joined)
    {
        var lines = joined.Split('|');
        var e = Assert.Throws<FtpException>(() => Rfc2228Lines.ParseDecodedReply(lines, 632));
        Assert.Equal("MalformedProtectedReply", e.ErrorId);
    }

    [Fact]
    public void Protection_levels_pair_commands_with_reply_codes()
    {
        Assert.Equal(("ENC", 632), (Rfc2228Lines.CommandVerb(ControlProtectionLevel.Private), Rfc2228Lines.ReplyCode(ControlProtectionLevel.Private)));
        Assert.Equal(("MIC", 631), (Rfc2228Lines.CommandVerb(ControlProtectionLevel.Integrity), Rfc2228Lines.ReplyCode(ControlProtectionLevel.Integrity)));
        Assert.Equal(("CONF", 633), (Rfc2228Lines.CommandVerb(ControlProtectionLevel.Confidentiality), Rfc2228Lines.ReplyCode(ControlProtectionLevel.Confidentiality)));
        Assert.Equal(ControlProtectionLevel.Integrity, Rfc2228Lines.LevelOfVerb("mic"));
        Assert.Null(Rfc2228Lines.LevelOfVerb("USER"));
    }
}
