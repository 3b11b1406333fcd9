using System.Security.Cryptography;
using SecureFtp;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

/// <summary>RFC 2773 s.2.1: files stored under an FEK, sent with the FEK token of Figure 8.</summary>
public class KeaPreEncryptedFileTests
{
    private static readonly KeaTestKit Kit = new();

    private static MemoryStream Store(byte[] file, KeaStorageKey key, KeaSecurityLabel? label = null)
    {
        var stored = new MemoryStream();
        KeaPreEncryptedFile.Encrypt(new MemoryStream(file), stored, key, label);
        stored.Position = 0;
        return stored;
    }

    private static byte[] Receive(ITransform receiver, IEnumerable<byte[]> buffers)
    {
        var output = new MemoryStream();
        foreach (var buffer in buffers) output.Write(receiver.Decode(new ArraySegment<byte>(buffer)));
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16384)]
    [InlineData(50_001)]
    public void StoredFileIsSentWithTheFekTokenAndDecryptsAtTheClient(int size)
    {
        var (client, server) = Kit.Established();
        var key = KeaStorageKey.Generate();
        var file = RandomNumberGenerator.GetBytes(size);
        var stored = Store(file, key);
        Assert.Equal(-1, IndexOf(stored.ToArray(), file));

        var buffers = KeaPreEncryptedFile.ProtectedBuffers(server, stored, key).ToList();
        Assert.All(buffers, b => Assert.True(b.Length <= server.MaxBufferSize));
        Assert.Equal(file, Receive(client.CreateDataTransform(DataProtectionLevel.Private, false), buffers));
    }

    [Fact]
    public void TheSameStoredFileCanBeSentTwiceInOneSession()
    {
        var (client, server) = Kit.Established();
        var key = KeaStorageKey.Generate();
        var file = RandomNumberGenerator.GetBytes(1000);
        var stored = Store(file, key).ToArray();
        for (int i = 0; i < 2; i++)
            Assert.Equal(file, Receive(client.CreateDataTransform(DataProtectionLevel.Private, false),
                KeaPreEncryptedFile.ProtectedBuffers(server, new MemoryStream(stored), key).ToList()));
    }

    [Fact]
    public void StoredFileAlteredOnDiskIsRejectedByTheHash()
    {
        var (client, server) = Kit.Established();
        var key = KeaStorageKey.Generate();
        var stored = Store(RandomNumberGenerator.GetBytes(40_000), key).ToArray();
        // One bit flipped in the middle of the stored ciphertext (inside the second record).
        stored[stored.Length / 2] ^= 0x20;
        var e = Assert.Throws<FtpException>(() => Receive(client.CreateDataTransform(DataProtectionLevel.Private, false),
            KeaPreEncryptedFile.ProtectedBuffers(server, new MemoryStream(stored), key).ToList()));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
    }

    [Fact]
    public void WrongStorageKeyIsReported()
    {
        var (_, server) = Kit.Established();
        var stored = Store(new byte[10], KeaStorageKey.Generate());
        var e = Assert.Throws<FtpException>(() => KeaPreEncryptedFile.ProtectedBuffers(server, stored, KeaStorageKey.Generate()).ToList());
        Assert.Equal("KeaStorageKeyMismatch", e.ErrorId);
    }

    [Fact]
    public void StoredLabelTravelsInTheToken()
    {
        var (client, server) = Kit.Established();
        var key = KeaStorageKey.Generate();
        var label = KeaSecurityLabel.Msp(new byte[] { 1, 2, 3, 4, 5 });
        var buffers = KeaPreEncryptedFile.ProtectedBuffers(server, Store(new byte[10], key, label), key).ToList();
        var (token, _) = KeaFileToken.Parse(client.Tek!, buffers[0], 0, buffers[0].Length);
        Assert.Equal(KeaSecurityLabel.MspType, token.Label.Type);
        Assert.Equal(label.GetValue(), token.Label.GetValue());
        Assert.NotEqual(new byte[20], token.Hash);
    }

    [Fact]
    public void StorageKeySavesOwnerOnly()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kea-storage-{Guid.NewGuid():N}.pem");
        try
        {
            var key = KeaStorageKey.Generate();
            key.Save(path);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(key.Key, KeaStorageKey.Load(path).Key);
        }
        finally { File.Delete(path); }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        if (needle.Length < 16) return -1;
        for (int i = 0; i <= haystack.Length - 16; i++)
            if (haystack.AsSpan(i, 16).SequenceEqual(needle.AsSpan(0, 16))) return i;
        return -1;
    }
}
