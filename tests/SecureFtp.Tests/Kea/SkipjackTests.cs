using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

public class SkipjackTests
{
    internal static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void CodebookKnownAnswerFromTheNistSpecification()
    {
        // SKIPJACK and KEA Algorithm Specifications v2.0, Annex A.
        var key = Hex("00998877665544332211");
        var cipher = Skipjack.EncryptBlock(key, Hex("33221100ddccbbaa"));
        Assert.Equal("2587cae27a12d300", Convert.ToHexString(cipher).ToLowerInvariant());

        var plain = new byte[8];
        Skipjack.CreateEngine(key, encrypt: false).ProcessBlock(cipher, 0, plain, 0);
        Assert.Equal("33221100ddccbbaa", Convert.ToHexString(plain).ToLowerInvariant());
    }

    [Fact]
    public void CbcChainsAcrossCallsLikeOneStream()
    {
        var key = Hex("00998877665544332211");
        var iv = Hex("0102030405060708");
        var data = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var whole = (byte[])data.Clone();
        new SkipjackCbcStream(key, iv, true).Process(whole, 0, 32);
        var pieces = (byte[])data.Clone();
        var stream = new SkipjackCbcStream(key, iv, true);
        stream.Process(pieces, 0, 8);
        stream.Process(pieces, 8, 24);
        Assert.Equal(whole, pieces);
        // First block by hand: E(P1 xor IV).
        var first = data.Take(8).Select((b, i) => (byte)(b ^ iv[i])).ToArray();
        Assert.Equal(Skipjack.EncryptBlock(key, first), whole.Take(8).ToArray());

        var back = new SkipjackCbcStream(key, iv, false);
        back.Process(whole, 0, 16);
        back.Process(whole, 16, 16);
        Assert.Equal(data, whole);
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(1, 7)]
    [InlineData(7, 1)]
    [InlineData(8, 8)]
    [InlineData(13, 3)]
    public void PadIsRfc2773Section2(int length, int expectedPad)
    {
        Assert.Equal(expectedPad, Skipjack.PadLength(length));
        var buffer = new byte[length + expectedPad];
        Skipjack.WritePad(buffer, length, expectedPad);
        Assert.All(buffer.Skip(length), b => Assert.Equal(expectedPad, b));
        Assert.Equal(expectedPad, Skipjack.ReadPad(buffer, 0, buffer.Length));
    }

    [Fact]
    public void ReadPadRefusesInconsistentPad()
    {
        Assert.Equal(-1, Skipjack.ReadPad(Hex("0000000000000302"), 0, 8));
        Assert.Equal(-1, Skipjack.ReadPad(Hex("0000000000000009"), 0, 8));
        Assert.Equal(-1, Skipjack.ReadPad(Hex("0000000000000000"), 0, 8));
    }

    [Fact]
    public void IcvIsOnesComplementSumWithEndAroundCarryThen32ZeroBits()
    {
        // 0xFFFFFFFF + 0x00000002 = 0x1_00000001 -> end-around carry -> 0x00000002.
        var data = Hex("FFFFFFFF00000002");
        var icv = new byte[8];
        Skipjack.WriteIcv(data, 0, data.Length, icv, 0);
        Assert.Equal("0000000200000000", Convert.ToHexString(icv));

        var plain = Hex("0102030405060708");
        Skipjack.WriteIcv(plain, 0, 8, icv, 0);
        Assert.Equal("06080A0C00000000", Convert.ToHexString(icv));
    }

    [Fact]
    public void WrappedKeyUnwrapsOnlyUnderTheSameKey()
    {
        var tek = Hex("0102030405060708090a");
        var mek = Hex("a1a2a3a4a5a6a7a8a9aa");
        var wrapped = Skipjack.WrapKey(tek, mek);
        Assert.Equal(12, wrapped.Length);
        Assert.Equal(mek, Skipjack.UnwrapKey(tek, wrapped, 0));

        var wrongTek = Hex("0102030405060708090b");
        Assert.Null(Skipjack.UnwrapKey(wrongTek, wrapped, 0));
        wrapped[3] ^= 0x10;
        Assert.Null(Skipjack.UnwrapKey(tek, wrapped, 0));
    }
}
