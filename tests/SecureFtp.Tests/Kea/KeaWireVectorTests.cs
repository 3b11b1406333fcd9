using System.Text;
using SecureFtp.Security.Kea;
using Xunit;
using static SecureFtp.Tests.Kea.SkipjackTests;

namespace SecureFtp.Tests.Kea;

/// <summary>Fixed-input vectors of the token layouts, as printed in docs/protocol/KEA-SKIPJACK.md s.11, so
/// another implementation can check its bytes against ours.</summary>
public class KeaWireVectorTests
{
    private static readonly byte[] Mek = Hex("00998877665544332211");
    private static readonly byte[] Iv = Hex("0102030405060708");

    [Fact]
    public void CommandTokenVector()
    {
        // "NOOP\r\n" || SEQ 0x1234 || pad 08 x8 || ICV, first token after an IV (no label block before it).
        var body = Encoding.ASCII.GetBytes("NOOP\r\n").Concat(new byte[] { 0x12, 0x34 }).ToArray();
        var token = SealedBlock.Seal(new SkipjackCbcStream(Mek, Iv, true), body, 0, body.Length);
        // ICV: 4E4F4F50 + 0D0A1234 + 08080808 + 08080808 = 6B697194, then 32 zero bits.
        Assert.Equal("4E4F4F500D0A1234" + "0808080808080808" + "6B69719400000000", Convert.ToHexString(Plain(token)));
        Assert.Equal(Vector.CommandToken, Convert.ToHexString(token));
    }

    [Fact]
    public void WrappedKeyVector()
    {
        var wrapped = Skipjack.WrapKey(Hex("e7496e99e4628b7f9ffb"), Mek);
        Assert.Equal(Vector.WrappedMek, Convert.ToHexString(wrapped));
    }

    [Fact]
    public void DomainIdentifierVector() =>
        Assert.Equal(Vector.DefaultDomainIdentifier, Convert.ToHexString(KeaDomain.Default.Identifier()));

    private static byte[] Plain(byte[] token)
    {
        var copy = (byte[])token.Clone();
        new SkipjackCbcStream(Mek, Iv, false).Process(copy, 0, copy.Length);
        return copy;
    }

    private static class Vector
    {
        public const string CommandToken = "9C49468908A69E5864179859695CBC3C7CCF1AF396453ED6";
        public const string WrappedMek = "896AF2B61558193534582AC7";
        public const string DefaultDomainIdentifier = "F5756A0567D8B3CA9E19";
    }
}
