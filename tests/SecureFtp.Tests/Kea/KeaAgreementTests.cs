using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using SecureFtp;
using SecureFtp.Security.Kea;
using Xunit;
using static SecureFtp.Tests.Kea.SkipjackTests;

namespace SecureFtp.Tests.Kea;

public class KeaAgreementTests
{
    private static readonly KeaDomain Domain = KeaDomain.Default;

    [Theory]
    // The two w prefixes of the NIST spec's Annex B/C. The annex's printed keys are known to be misprinted;
    // these are the results every independent implementation agrees on (Colin Plumb, cryptography list,
    // 25 June 1998; Catacomb's skipjack test vectors), and they check each SKIPJACK step of key formation.
    [InlineData("95b8c6e776e0cae734f0" + "99ccfe2b90fd550b4471", "24c90cb05d668b2724d6")]
    [InlineData("973b5ca2558c1469769b" + "b71cb0d009af27659f7c", "fee778a838a601cdfb88")]
    public void KeyFormationKnownAnswers(string wPrefix, string expectedKey)
    {
        var w = new byte[128];
        Hex(wPrefix).CopyTo(w, 0);
        Assert.Equal(expectedKey, Convert.ToHexString(KeaAgreement.FormKey(w)).ToLowerInvariant());
    }

    [Fact]
    public void KeyFormationIntermediateStepsMatchPublishedSkipjackVectors()
    {
        // v1 xor pad = e7496e99e4628b7f9ffb; E(99ccfe2b90fd550b) = 60a73d387b517fca; E(60a73d387b517fca) = 24c90cb05d668b27.
        var key = Hex("e7496e99e4628b7f9ffb");
        Assert.Equal("60a73d387b517fca", Convert.ToHexString(Skipjack.EncryptBlock(key, Hex("99ccfe2b90fd550b"))).ToLowerInvariant());
        Assert.Equal("24c90cb05d668b27", Convert.ToHexString(Skipjack.EncryptBlock(key, Hex("60a73d387b517fca"))).ToLowerInvariant());
    }

    [Fact]
    public void DefaultDomainIsAValid1024Over160Domain()
    {
        Assert.Equal(1024, Domain.P.BitLength);
        Assert.Equal(160, Domain.Q.BitLength);
        Assert.True(Domain.P.IsProbablePrime(32));
        Assert.True(Domain.Q.IsProbablePrime(32));
        Assert.Equal(BigInteger.Zero, Domain.P.Subtract(BigInteger.One).Mod(Domain.Q));
        Assert.Equal(BigInteger.One, Domain.G.ModPow(Domain.Q, Domain.P));
        Assert.NotEqual(BigInteger.One, Domain.G);
        Assert.Equal(10, Domain.Identifier().Length);
    }

    [Fact]
    public void BothSidesDeriveTheSameTek()
    {
        var random = new SecureRandom();
        var a = Domain.GenerateKeyPair(random); var ra = Domain.GenerateKeyPair(random);
        var b = Domain.GenerateKeyPair(random); var rb = Domain.GenerateKeyPair(random);
        var tekA = KeaAgreement.ComputeTek(Domain, a.Private, ra.Private, b.Public, rb.Public);
        var tekB = KeaAgreement.ComputeTek(Domain, b.Private, rb.Private, a.Public, ra.Public);
        Assert.Equal(10, tekA.Length);
        Assert.Equal(tekA, tekB);
    }

    [Fact]
    public void WrongStaticKeyGivesADifferentTek()
    {
        var random = new SecureRandom();
        var a = Domain.GenerateKeyPair(random); var ra = Domain.GenerateKeyPair(random);
        var b = Domain.GenerateKeyPair(random); var rb = Domain.GenerateKeyPair(random);
        var impostor = Domain.GenerateKeyPair(random);
        // The impostor presents a's public key but only holds its own private value.
        var tekImpostor = KeaAgreement.ComputeTek(Domain, impostor.Private, ra.Private, b.Public, rb.Public);
        var tekB = KeaAgreement.ComputeTek(Domain, b.Private, rb.Private, a.Public, ra.Public);
        Assert.NotEqual(tekImpostor, tekB);
    }

    public static IEnumerable<object[]> BadValues()
    {
        yield return new object[] { BigInteger.Zero, "out of range (0)" };
        yield return new object[] { BigInteger.One, "out of range (1)" };
        yield return new object[] { Domain.P, "out of range (p)" };
        yield return new object[] { Domain.P.Add(BigInteger.One), "out of range (p+1)" };
        yield return new object[] { Domain.P.Subtract(BigInteger.One), "order 2 (p-1)" };
        yield return new object[] { BigInteger.Two, "not in the order-q subgroup (2)" };
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadEphemeralValueIsRefused(BigInteger bad, string why)
    {
        var random = new SecureRandom();
        var a = Domain.GenerateKeyPair(random); var ra = Domain.GenerateKeyPair(random);
        var b = Domain.GenerateKeyPair(random);
        var e = Assert.Throws<FtpException>(() => KeaAgreement.ComputeTek(Domain, a.Private, ra.Private, b.Public, bad));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("KeaBadPublicValue", e.ErrorId);
        Assert.Contains("ephemeral", e.Message);
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadStaticValueIsRefused(BigInteger bad, string why)
    {
        var random = new SecureRandom();
        var a = Domain.GenerateKeyPair(random); var ra = Domain.GenerateKeyPair(random);
        var rb = Domain.GenerateKeyPair(random);
        var e = Assert.Throws<FtpException>(() => KeaAgreement.ComputeTek(Domain, a.Private, ra.Private, bad, rb.Public));
        Assert.Equal("KeaBadPublicValue", e.ErrorId);
        Assert.Contains("static", e.Message);
        Assert.False(string.IsNullOrEmpty(why));
    }
}
