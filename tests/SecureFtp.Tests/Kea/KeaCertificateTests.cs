using SecureFtp;
using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

public class KeaCertificateTests
{
    private static readonly KeaTestKit Kit = new();

    [Fact]
    public void IssuedCertificateCarriesAKeaKeyInTheCaDomainAndVerifiesUnderTheCa()
    {
        var certificate = KeaCertificate.Parse(Kit.Alice.GetCertificateDer());
        var spki = certificate.Certificate.CertificateStructure.SubjectPublicKeyInfo;
        Assert.Equal("2.16.840.1.101.2.1.1.22", spki.Algorithm.Algorithm.Id);
        Assert.Equal(KeaDomain.Default.Identifier(), certificate.DomainIdentifier);
        Assert.Equal("CN=alice", certificate.Subject);
        Assert.Null(certificate.CheckIssuedBy(Kit.Ca.Issuer.Certificate, DateTime.UtcNow));
        // Signed with DSA (dsa-with-sha256), as FORTEZZA certificates were signed with DSA.
        Assert.Equal("2.16.840.1.101.3.4.3.2", certificate.Certificate.SigAlgOid);
    }

    [Fact]
    public void TamperedCertificateFailsVerification()
    {
        var der = Kit.Alice.GetCertificateDer();
        var subject = System.Text.Encoding.ASCII.GetBytes("alice");
        int at = IndexOf(der, subject);
        der[at] = (byte)'m'; // "mlice": same length, still parses
        var tampered = KeaCertificate.Parse(der);
        var problem = tampered.CheckIssuedBy(Kit.Ca.Issuer.Certificate, DateTime.UtcNow);
        Assert.NotNull(problem);
        Assert.Contains("signature does not verify", problem);
    }

    [Fact]
    public void CertificateFromAnotherCaIsNotIssuedByOurs()
    {
        var other = KeaCertificateAuthority.Create("Other CA");
        var certificate = KeaCertificate.Parse(other.Issue("CN=mallory").GetCertificateDer());
        Assert.Contains("not by", certificate.CheckIssuedBy(Kit.Ca.Issuer.Certificate, DateTime.UtcNow));
    }

    [Fact]
    public void CredentialAndCaSaveOwnerOnlyAndLoadBack()
    {
        var dir = Directory.CreateTempSubdirectory("kea-cred-");
        try
        {
            var keyPath = Path.Combine(dir.FullName, "alice.kea.pem");
            Kit.Alice.Save(keyPath);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
            var loaded = KeaCredential.Load(keyPath);
            Assert.Equal(Kit.Alice.Fingerprint, loaded.Fingerprint);
            Assert.Equal(Kit.Alice.PrivateValue, loaded.PrivateValue);
            Assert.Equal(Kit.Ca.Issuer.Fingerprint, loaded.Issuer!.Fingerprint);

            var caPath = Path.Combine(dir.FullName, "ca.pem");
            Kit.Ca.Save(caPath);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(caPath));
            var ca = KeaCertificateAuthority.Load(caPath);
            var carol = ca.Issue("carol");
            Assert.Null(KeaCertificate.Parse(carol.GetCertificateDer()).CheckIssuedBy(Kit.Ca.Issuer.Certificate, DateTime.UtcNow));

            var issuerPath = Path.Combine(dir.FullName, "ca.crt");
            Kit.Ca.Issuer.Save(issuerPath);
            Assert.Equal(Kit.Ca.Issuer.Fingerprint, KeaIssuer.Load(issuerPath).Fingerprint);
            Assert.DoesNotContain("PRIVATE", File.ReadAllText(issuerPath));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void CredentialRefusesAPrivateValueThatIsNotTheCertificatesKey()
    {
        var certificate = KeaCertificate.Parse(Kit.Alice.GetCertificateDer());
        var e = Assert.Throws<FtpException>(() => new KeaCredential(certificate, Kit.Bob.PrivateValue, KeaDomain.Default, null));
        Assert.Equal("KeaKeyMismatch", e.ErrorId);
    }

    internal static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
