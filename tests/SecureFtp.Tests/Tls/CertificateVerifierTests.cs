using System.Security.Cryptography;
using SecureFtp.Security.Tls;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>The pin formats a user may paste, and which hosts count as IP literals (they decide the name
/// check and, on Linux, the TLS backend).</summary>
public class CertificateVerifierTests
{
    private static readonly string Sha256 = Convert.ToHexString(SHA256.HashData(TestPki.Server.RawData));
    private static readonly string Sha1 = Convert.ToHexString(SHA1.HashData(TestPki.Server.RawData));
    private static readonly byte[] Spki = SHA256.HashData(TestPki.Server.PublicKey.ExportSubjectPublicKeyInfo());

    public static TheoryData<string> MatchingPins => new()
    {
        Sha256,
        Sha256.ToLowerInvariant(),
        TestPki.Sha256Hex(TestPki.Server),
        TestPki.Sha256Hex(TestPki.Server).ToLowerInvariant(),
        Sha1,
        string.Join(":", Enumerable.Range(0, 20).Select(i => Sha1.Substring(i * 2, 2))).ToLowerInvariant(),
        Convert.ToBase64String(Spki),
        "sha256//" + Convert.ToBase64String(Spki),
        Convert.ToHexString(Spki),
        "  " + Sha256 + "  ",
    };

    [Theory]
    [MemberData(nameof(MatchingPins))]
    public void Pin_forms_match(string pin) => Assert.True(TlsCertificateVerifier.PinMatches(pin, TestPki.Server));

    [Theory]
    [InlineData("")]
    [InlineData("not a pin")]
    [InlineData("00")]
    public void Other_pins_do_not_match(string pin) => Assert.False(TlsCertificateVerifier.PinMatches(pin, TestPki.Server));

    [Fact]
    public void Pin_of_another_certificate_does_not_match()
        => Assert.False(TlsCertificateVerifier.PinMatches(Convert.ToHexString(SHA256.HashData(TestPki.OtherName.RawData)), TestPki.Server));

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "::1")]
    [InlineData("localhost", null)]
    [InlineData("10", null)]
    [InlineData("1.2", null)]
    [InlineData("ftp.example.com", null)]
    public void Ip_literals_are_recognised(string host, string? expected)
        => Assert.Equal(expected, TlsCertificateVerifier.ParseAddressLiteral(host)?.ToString());

    [Fact]
    public void Subject_alternative_names_are_listed_for_messages()
        => Assert.Equal(new[] { "DNS:localhost", "IP:127.0.0.1" }, SubjectAltNames.Read(TestPki.Server));

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", false)]
    [InlineData("other.example", false)]
    public void Netstandard_name_check_agrees_with_the_platform(string host, bool expected)
    {
        var address = TlsCertificateVerifier.ParseAddressLiteral(host);
        Assert.Equal(expected, SubjectAltNames.Matches(TestPki.Server, host, address));
        Assert.Equal(expected, TestPki.Server.MatchesHostname(host));
    }
}
