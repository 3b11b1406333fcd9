using System.Net;
using SecureFtp;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Trust;

public sealed class TrustVerifierTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "secureftp-verify-" + Guid.NewGuid().ToString("N"));
    private readonly FileTrustStore _store;
    private static readonly byte[] ServerKey = Enumerable.Range(1, 80).Select(i => (byte)i).ToArray();
    private static readonly byte[] OtherKey = Enumerable.Range(1, 80).Select(i => (byte)(i * 3)).ToArray();
    private static readonly IPAddress Address1 = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress Address2 = IPAddress.Parse("192.0.2.11");

    public TrustVerifierTests() => _store = new FileTrustStore(_folder);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private string Verify(string host, IPAddress? address, byte[] key, TrustPolicy policy, string brand = "UCB CS Dept.")
        => TrustVerifier.VerifyServerKey(_store, host, 21, address, TrustKeyTypes.SafeTp, key, brand, policy);

    [Fact]
    public void First_use_asks_the_user_with_fingerprint_and_brand_then_remembers_host_and_address()
    {
        string? asked = null;
        var policy = new TrustPolicy { ConfirmNewKey = (query, caption) => { asked = query + "|" + caption; return true; } };

        Assert.Equal(TrustSources.FirstUse, Verify("ftp.example.com", Address1, ServerKey, policy));
        Assert.Contains(KeyFingerprint.Compute(ServerKey), asked);
        Assert.Contains("UCB CS Dept.", asked);

        asked = null;
        Assert.Equal(TrustSources.TrustStore, Verify("ftp.example.com", Address1, ServerKey, policy));
        Assert.Equal(TrustSources.TrustStore, Verify("192.0.2.10", null, ServerKey, policy));
        Assert.Null(asked);
        Assert.All(_store.GetAll(), k => Assert.Equal(TrustSources.FirstUse, k.Source));
        Assert.Equal(new[] { "192.0.2.10", "ftp.example.com" }, _store.GetAll().Select(k => k.Host).OrderBy(h => h));
    }

    [Fact]
    public void A_changed_key_is_refused_with_both_fingerprints_and_brands_even_when_new_keys_are_accepted()
    {
        Verify("ftp.example.com", Address1, ServerKey, new TrustPolicy { AcceptNewKey = true });
        bool asked = false;
        var e = Assert.Throws<FtpException>(() => Verify("ftp.example.com", Address1, OtherKey,
            new TrustPolicy { AcceptNewKey = true, ConfirmNewKey = (_, _) => asked = true }, brand: "Mallory"));
        Assert.Equal(FtpErrorKind.Trust, e.Kind);
        Assert.Equal("ServerKeyChanged", e.ErrorId);
        Assert.Contains(KeyFingerprint.Compute(ServerKey), e.Message);
        Assert.Contains(KeyFingerprint.Compute(OtherKey), e.Message);
        Assert.Contains("UCB CS Dept.", e.Message);
        Assert.Contains("Mallory", e.Message);
        Assert.False(asked);
        Assert.DoesNotContain(_store.GetAll(), k => k.Fingerprint == KeyFingerprint.Compute(OtherKey));
    }

    [Fact]
    public void A_dns_answer_leading_to_another_server_meets_the_key_recorded_for_the_name()
    {
        Verify("ftp.example.com", Address1, ServerKey, new TrustPolicy { AcceptNewKey = true });
        var e = Assert.Throws<FtpException>(() => Verify("ftp.example.com", IPAddress.Parse("203.0.113.66"), OtherKey, new TrustPolicy { AcceptNewKey = true }));
        Assert.Equal("ServerKeyChanged", e.ErrorId);
    }

    [Fact]
    public void Unknown_keys_are_refused_when_declined_when_ErrorOnUntrusted_and_when_nobody_can_be_asked()
    {
        var declined = Assert.Throws<FtpException>(() => Verify("h", Address1, ServerKey, new TrustPolicy { ConfirmNewKey = (_, _) => false }));
        var strict = Assert.Throws<FtpException>(() => Verify("h", Address1, ServerKey, new TrustPolicy { ErrorOnUntrusted = true, AcceptNewKey = true }));
        var unattended = Assert.Throws<FtpException>(() => Verify("h", Address1, ServerKey, new TrustPolicy()));
        foreach (var e in new[] { declined, strict, unattended })
        {
            Assert.Equal(FtpErrorKind.Trust, e.Kind);
            Assert.Equal("ServerKeyUntrusted", e.ErrorId);
            Assert.Contains(KeyFingerprint.Compute(ServerKey), e.Message);
        }
        Assert.Contains("ErrorOnUntrusted", strict.Message);
        Assert.Empty(_store.GetAll());
    }

    [Fact]
    public void A_known_key_at_a_new_address_is_replicated_quietly_by_default()
    {
        Verify("10.0.0.1", null, ServerKey, new TrustPolicy { AcceptNewKey = true });
        Assert.Equal(TrustSources.Replicated, Verify("10.0.0.2", null, ServerKey, new TrustPolicy { ErrorOnUntrusted = true }));
        var replica = Assert.Single(_store.Find("10.0.0.2", 21, TrustKeyTypes.SafeTp));
        Assert.Equal(TrustSources.Replicated, replica.Source);
        Assert.Equal("UCB CS Dept.", replica.Brand);
    }

    [Fact]
    public void Replication_can_require_approval_and_names_where_the_key_is_trusted()
    {
        Verify("ftp.example.com", Address1, ServerKey, new TrustPolicy { AcceptNewKey = true });
        string? query = null;
        var ask = new TrustPolicy { Replication = KeyReplication.Ask, ConfirmNewKey = (q, _) => { query = q; return false; } };
        var e = Assert.Throws<FtpException>(() => Verify("mirror.example.com", Address2, ServerKey, ask));
        Assert.Equal("ServerKeyUntrusted", e.ErrorId);
        Assert.Contains("ftp.example.com", query);

        ask.ConfirmNewKey = (_, _) => true;
        Assert.Equal(TrustSources.Replicated, Verify("mirror.example.com", Address2, ServerKey, ask));
        Assert.Equal(TrustSources.TrustStore, Verify("192.0.2.11", null, ServerKey, new TrustPolicy()));
    }

    [Fact]
    public void A_key_added_out_of_band_by_fingerprint_is_trusted_without_asking()
    {
        _store.Add(TrustedKey.FromFingerprint("ftp.example.com", 0, "X-SafeTP1", KeyFingerprint.Compute(ServerKey).Replace(":", "").ToLowerInvariant(), "UCB"));
        Assert.Equal(TrustSources.TrustStore, Verify("ftp.example.com", Address1, ServerKey, new TrustPolicy { ErrorOnUntrusted = true }));
    }

    [Fact]
    public void Tls_certificates_are_decided_by_their_public_key_and_pins_by_certificate_hash_also_match()
    {
        using var cert = TrustStoreTests.SelfSigned("CN=tls.example.org");
        Assert.Equal(TrustSources.FirstUse, TrustVerifier.VerifyCertificate(_store, "tls.example.org", 990, null, cert, new TrustPolicy { AcceptNewKey = true }));
        var entry = Assert.Single(_store.GetAll());
        Assert.Equal(cert.PublicKey.ExportSubjectPublicKeyInfo(), entry.PublicKey);
        Assert.Equal("CN=tls.example.org", entry.Brand);

        _store.Remove("*", 0, null, null);
        _store.Add(TrustedKey.FromFingerprint("tls.example.org", 990, "TLS", KeyFingerprint.Compute(cert.RawData), null));
        Assert.True(TrustVerifier.IsCertificatePinned(_store, "tls.example.org", 990, null, cert));
        Assert.Equal(TrustSources.TrustStore, TrustVerifier.VerifyCertificate(_store, "tls.example.org", 990, null, cert, new TrustPolicy()));
    }

    [Fact]
    public void Policy_is_taken_from_the_client_options()
    {
        Func<string, string, bool> confirm = (_, _) => true;
        var policy = TrustPolicy.FromOptions(new FtpClientOptions { AcceptNewKey = true, ErrorOnUntrusted = false, ConfirmNewKey = confirm });
        Assert.True(policy.AcceptNewKey);
        Assert.Same(confirm, policy.ConfirmNewKey);
    }
}
