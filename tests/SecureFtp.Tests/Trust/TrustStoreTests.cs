using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureFtp;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Trust;

public sealed class TrustStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "secureftp-trust-" + Guid.NewGuid().ToString("N"));
    private static readonly byte[] KeyA = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
    private static readonly byte[] KeyB = Enumerable.Range(0, 64).Select(i => (byte)(255 - i)).ToArray();

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private FileTrustStore NewStore() => new FileTrustStore(_folder);

    [Fact]
    public void Fingerprint_is_sha256_upper_hex_with_colons_and_normalises_user_spellings()
    {
        var fp = KeyFingerprint.Compute(System.Text.Encoding.ASCII.GetBytes("abc"));
        Assert.Equal("BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD", fp);
        Assert.Equal(fp, KeyFingerprint.Normalize("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        Assert.True(KeyFingerprint.AreEqual(fp, fp.Replace(":", " ").ToLowerInvariant()));
        var e = Assert.Throws<FtpException>(() => KeyFingerprint.Normalize("AB:CD"));
        Assert.Equal("InvalidFingerprint", e.ErrorId);
    }

    [Fact]
    public void Keys_survive_a_reopen_with_brand_and_port_and_are_found_by_host_and_port()
    {
        var store = NewStore();
        store.Add(TrustedKey.FromPublicKey("FTP.Example.COM", 21, TrustKeyTypes.SafeTp, KeyA, "UCB CS Dept.", TrustSources.OutOfBand));
        store.Add(TrustedKey.FromFingerprint("[::ffff:10.0.0.5]", 0, "tls", KeyFingerprint.Compute(KeyB), null));

        var reopened = NewStore();
        var safeTp = Assert.Single(reopened.Find("ftp.example.com", 21, TrustKeyTypes.SafeTp));
        Assert.Equal("UCB CS Dept.", safeTp.Brand);
        Assert.Equal(KeyA, safeTp.PublicKey);
        Assert.Equal(KeyFingerprint.Compute(KeyA), safeTp.Fingerprint);
        Assert.Empty(reopened.Find("ftp.example.com", 2121, TrustKeyTypes.SafeTp));
        Assert.Empty(reopened.Find("ftp.example.com", 21, TrustKeyTypes.Kea));

        // A pin for any port, recorded under an IPv4-mapped spelling, is found by the plain IPv4 address.
        var pin = Assert.Single(reopened.Find("10.0.0.5", 990, TrustKeyTypes.Tls));
        Assert.Empty(pin.PublicKey);
        Assert.True(reopened.HasAnyKeyFor("10.0.0.5", 21));
        Assert.False(reopened.HasAnyKeyFor("10.0.0.6", 21));

        Assert.Equal(1, reopened.Remove("ftp.example.com", 0, null, null));
        Assert.Single(NewStore().GetAll());
    }

    [Fact]
    public void The_file_is_readable_text_that_documents_itself()
    {
        NewStore().Add(TrustedKey.FromPublicKey("host1", 21, TrustKeyTypes.Kea, KeyA, "Site CA", TrustSources.OutOfBand));
        var text = File.ReadAllText(Path.Combine(_folder, FileTrustStore.FileName));
        Assert.StartsWith("# SecureFtp trust store", text);
        var line = text.Split('\n').Single(l => l.StartsWith("host1", StringComparison.Ordinal));
        Assert.Equal(new[] { "host1", "21", "KEA", KeyFingerprint.Compute(KeyA), "OutOfBand" }, line.Split('\t').Take(5));
        Assert.EndsWith("\tSite CA", line);
    }

    [Fact]
    public void A_hostile_brand_cannot_forge_a_second_line_or_terminal_escapes()
    {
        NewStore().Add(TrustedKey.FromPublicKey("h", 21, TrustKeyTypes.SafeTp, KeyA, "Evil\nother\t21\tTLS\x1b[2J", TrustSources.FirstUse));
        var key = Assert.Single(NewStore().GetAll());
        Assert.Equal("Evil?other?21?TLS?[2J", key.Brand);
    }

    [Fact]
    public void A_damaged_line_is_an_error_naming_the_line_not_a_silently_forgotten_key()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, FileTrustStore.FileName), "# comment\nhost\tnot-a-port\tTLS\n");
        var e = Assert.Throws<FtpException>(() => NewStore().GetAll());
        Assert.Equal("TrustStoreInvalid", e.ErrorId);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Location_comes_from_the_argument_then_the_environment_variable_then_the_profile()
    {
        var saved = Environment.GetEnvironmentVariable(FileTrustStore.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(FileTrustStore.EnvironmentVariable, _folder);
            Assert.Equal(_folder, new FileTrustStore().Location);
            Assert.Equal(Path.GetFullPath("/tmp/elsewhere"), new FileTrustStore("/tmp/elsewhere").Location);
            Environment.SetEnvironmentVariable(FileTrustStore.EnvironmentVariable, null);
            var expected = OperatingSystem.IsWindows()
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "SecureFtp")
                : Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".secureftp");
            Assert.Equal(expected, new FileTrustStore().Location);
        }
        finally { Environment.SetEnvironmentVariable(FileTrustStore.EnvironmentVariable, saved); }
    }

    [Fact]
    public void Folder_and_file_are_readable_only_by_their_owner()
    {
        if (OperatingSystem.IsWindows()) return; // Windows: the per-user profile ACL applies (best effort, documented).
        var store = NewStore();
        store.Add(TrustedKey.FromPublicKey("h", 21, TrustKeyTypes.SafeTp, KeyA, null, TrustSources.FirstUse));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        // A file someone widened is narrowed again by the next write.
        File.SetUnixFileMode(store.FilePath, (UnixFileMode)0x1B6 /* 0666 */);
        store.Add(TrustedKey.FromPublicKey("h2", 21, TrustKeyTypes.SafeTp, KeyB, null, TrustSources.FirstUse));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void Concurrent_writers_in_parallel_lose_no_key()
    {
        const int writers = 40;
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            new FileTrustStore(_folder).Add(TrustedKey.FromPublicKey($"host{i}", 21, TrustKeyTypes.SafeTp, new[] { (byte)i, (byte)1 }, null, TrustSources.FirstUse)));
        Assert.Equal(writers, NewStore().GetAll().Count);
    }

    [Fact]
    public void A_writer_waits_for_the_lock_held_by_another_process()
    {
        // flock(1) takes the same kind of lock the store takes (FileShare.None is flock on Unix).
        if (OperatingSystem.IsWindows()) return;
        Directory.CreateDirectory(_folder);
        var lockPath = Path.Combine(_folder, "trusted-keys.lock");
        var held = Path.Combine(_folder, "held");
        var released = Path.Combine(_folder, "released");
        using var holder = Process.Start(new ProcessStartInfo("flock",
            new[] { "-x", lockPath, "-c", $"touch '{held}'; sleep 1; touch '{released}'" })
        { UseShellExecute = false })!;
        while (!File.Exists(held) && !holder.HasExited) Thread.Sleep(20);
        NewStore().Add(TrustedKey.FromPublicKey("waited", 21, TrustKeyTypes.SafeTp, KeyA, null, TrustSources.FirstUse));
        Assert.True(File.Exists(released), "the store wrote while another process held its lock");
        holder.WaitForExit();
        Assert.Single(NewStore().GetAll());
    }

    [Fact]
    public void Out_of_band_key_from_a_pem_certificate_is_its_public_key_and_matches_the_live_certificate()
    {
        using var cert = SelfSigned("CN=files.example.org");
        var path = Path.Combine(Directory.CreateDirectory(_folder).FullName, "server.pem");
        File.WriteAllText(path, cert.ExportCertificatePem());

        var key = TrustedKeyFile.Read(path, "files.example.org", 21, "TLS");
        Assert.Equal(cert.PublicKey.ExportSubjectPublicKeyInfo(), key.PublicKey);
        Assert.Equal("CN=files.example.org", key.Brand);
        Assert.Equal(TrustSources.OutOfBand, key.Source);
        var store = NewStore();
        store.Add(key);
        Assert.True(TrustVerifier.IsCertificatePinned(store, "files.example.org", 21, null, cert));
        Assert.False(TrustVerifier.IsCertificatePinned(store, "other.example.org", 21, null, cert));
    }

    [Fact]
    public void Out_of_band_key_from_a_pem_block_carries_its_brand_header()
    {
        var path = Path.Combine(Directory.CreateDirectory(_folder).FullName, "server.pub");
        File.WriteAllText(path, "-----BEGIN X-SAFETP1 PUBLIC KEY-----\nBrand: UCB CS Dept.\n\n" + Convert.ToBase64String(KeyA) + "\n-----END X-SAFETP1 PUBLIC KEY-----\n");
        var key = TrustedKeyFile.Read(path, "10.1.1.1", 21, "X-SafeTP1");
        Assert.Equal(KeyA, key.PublicKey);
        Assert.Equal("UCB CS Dept.", key.Brand);
    }

    [Fact]
    public void Out_of_band_safetp_key_is_the_key_the_server_presents_with_its_signed_brand()
    {
        var serverKey = SecureFtp.Security.SafeTp.SafeTpKeys.GenerateServerKey("UCB CS Dept.", 1024); // the size keeps the test quick; 2048 is covered in SafeTp/
        var exported = SecureFtp.Security.SafeTp.SafeTpKeys.ExportServerPublicKey(serverKey);
        var path = Path.Combine(Directory.CreateDirectory(_folder).FullName, "server.pub");
        File.WriteAllText(path, exported);

        var key = TrustedKeyFile.Read(path, "ftp.example.com", 21, "X-SafeTP1");
        var expected = SecureFtp.Security.SafeTp.SafeTpKeys.ParseServerPublicKey(exported);
        Assert.Equal(expected.PublicKeyEncoding, key.PublicKey);
        Assert.Equal(expected.Fingerprint, key.Fingerprint);
        Assert.Equal("UCB CS Dept.", key.Brand);

        // A brand changed in the file no longer carries the key's signature.
        var body = Convert.FromBase64String(string.Concat(exported.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        var brandAt = IndexOf(body, System.Text.Encoding.UTF8.GetBytes("UCB CS Dept."));
        body[brandAt] ^= 0x01;
        File.WriteAllText(path, "-----BEGIN X-SAFETP1 SERVER PUBLIC KEY-----\n" + Convert.ToBase64String(body) + "\n-----END X-SAFETP1 SERVER PUBLIC KEY-----\n");
        Assert.Throws<FtpException>(() => TrustedKeyFile.Read(path, "ftp.example.com", 21, "X-SafeTP1"));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }

    internal static X509Certificate2 SelfSigned(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
    }
}
