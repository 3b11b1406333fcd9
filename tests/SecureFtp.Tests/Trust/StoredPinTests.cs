using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Diagnostics;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Tls;
using SecureFtp.Tests.Server;
using SecureFtp.Tests.Tls;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Trust;

/// <summary>A TLS pin stored with Add-FtpTrustedKey acts exactly like -CertificateThumbprint: it replaces the CA
/// decision for its host in both directions. Played against the embedded server with a real TLS handshake: one
/// server shows a self-signed certificate the user pinned (accepted, although no CA vouches for it), the other a
/// certificate from a CA the client trusts while the user's pin names another (refused: what an interception with a
/// mis-issued certificate looks like).</summary>
public sealed class StoredPinTests : IDisposable
{
    private readonly string _storeFolder = Path.Combine(Path.GetTempPath(), "secureftp-pins-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_storeFolder, true); } catch (DirectoryNotFoundException) { }
    }

    private static readonly Lazy<X509Certificate2> s_selfSigned = new(() => SelfSigned("CN=localhost"));
    private static readonly Lazy<X509Certificate2> s_otherSelfSigned = new(() => SelfSigned("CN=mallory"));

    /// <summary>Self-signed for localhost and 127.0.0.1: names match, but no CA vouches for it.</summary>
    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    private FileTrustStore Store => new(_storeFolder);

    /// <summary>What Add-FtpTrustedKey -ComputerName host -Fingerprint f (key type TLS, any port) stores.</summary>
    private void StorePin(string host, string fingerprint, int port = 0)
        => Store.Add(new TrustedKey
        {
            Host = host, Port = port, KeyType = TrustKeyTypes.Tls, Fingerprint = KeyFingerprint.Normalize(fingerprint),
            AddedUtc = DateTime.UtcNow, Source = TrustSources.OutOfBand,
        });

    /// <summary>What Add-FtpTrustedKey -ComputerName host -Path cert.pem stores: the certificate's public key.</summary>
    private void StoreCertificateFile(string host, X509Certificate2 certificate)
    {
        string file = Path.Combine(Path.GetTempPath(), "secureftp-pin-" + Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(file, certificate.ExportCertificatePem());
        try { Store.Add(TrustedKeyFile.Read(file, host, 0, TrustKeyTypes.Tls)); }
        finally { File.Delete(file); }
    }

    private static string Sha256(X509Certificate2 certificate) => KeyFingerprint.Compute(certificate.RawData);

    private static Task<RunningServer> StartServerAsync(X509Certificate2 certificate)
        => RunningServer.StartRootAsync(o => o.Certificate = certificate);

    private FtpClientOptions ClientOptions(RunningServer server, string host = "127.0.0.1") => new()
    {
        Host = host, Port = server.Port, Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
        Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
        TrustStorePath = _storeFolder, DataConnectionMode = DataConnectionMode.Passive,
    };

    /// <summary>AUTH TLS at the mechanism level, where a test CA can be the client's trust anchor, then USER/PASS.
    /// Returns how the server was trusted, or throws what the client would.</summary>
    private static async Task<(string? TrustSource, FtpReply Login)> AuthTlsAndLogInAsync(RunningServer server, FtpClientOptions options, X509Certificate2Collection? anchors)
    {
        using var control = await FtpControlConnection.OpenAsync(options.Host, server.Port, TimeSpan.FromSeconds(15), new UTF8Encoding(false), CancellationToken.None);
        Assert.Equal(220, (await control.ReadReplyAsync(CancellationToken.None)).Code);
        var context = new SecurityNegotiationContext(options);
        using var security = await new TlsClientMechanism("TLS") { TrustAnchors = anchors }.NegotiateAsync(control, context, CancellationToken.None);
        Assert.NotNull(security);
        Assert.Equal(331, (await control.ExecuteAsync("USER " + RunningServer.UserName, CancellationToken.None)).Code);
        var login = await control.ExecuteAsync("PASS " + RunningServer.Password, CancellationToken.None);
        return (security!.Details.TrustSource, login);
    }

    // ---- the client (Connect-SecureFtp's engine) ----

    [Fact]
    public async Task A_self_signed_server_whose_certificate_is_pinned_in_the_trust_store_is_accepted()
    {
        await using var server = await StartServerAsync(s_selfSigned.Value);
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));

        using var client = await FtpClient.ConnectAsync(ClientOptions(server));
        Assert.Equal(TrustSources.TrustStore, client.Security.TrustSource);
        Assert.Equal(Sha256(s_selfSigned.Value), client.Security.PeerFingerprint);
    }

    [Fact]
    public async Task A_pin_stored_from_a_certificate_file_also_lets_the_self_signed_server_in()
    {
        await using var server = await StartServerAsync(s_selfSigned.Value);
        StoreCertificateFile("localhost", s_selfSigned.Value);

        using var client = await FtpClient.ConnectAsync(ClientOptions(server, host: "localhost"));
        Assert.Equal(TrustSources.TrustStore, client.Security.TrustSource);
    }

    [Fact]
    public async Task Without_a_pin_the_self_signed_server_is_refused_before_the_password_is_sent()
    {
        await using var server = await StartServerAsync(s_selfSigned.Value);
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(ClientOptions(server)));
        Assert.Equal("CertificateRejected", e.ErrorId);
        Assert.DoesNotContain(server.Log, l => l.Message.Contains("PASS") || l.Message.Contains(RunningServer.UserName));
    }

    [Fact]
    public async Task A_stored_pin_for_another_certificate_refuses_a_self_signed_impostor()
    {
        await using var server = await StartServerAsync(s_otherSelfSigned.Value);
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(ClientOptions(server)));
        Assert.Equal("CertificateRejected", e.ErrorId);
        Assert.Contains("pin mismatch", e.Message);
        Assert.Contains(Sha256(s_selfSigned.Value), e.Message); // the pin the user holds is named
        // The engine says what happened; how to replace the pin is the cmdlet layer's hint (ErrorRecords).
        Assert.Contains("trust store pins another certificate", e.Message);
        Assert.DoesNotContain("Remove-FtpTrustedKey", e.Message);
    }

    [Fact]
    public async Task A_CA_valid_certificate_is_refused_when_the_stored_pin_names_another()
    {
        // The server's certificate chains to the CA the client trusts and names 127.0.0.1: without a pin it is accepted...
        await using var server = await RunningServer.StartRootAsync();
        var (source, login) = await AuthTlsAndLogInAsync(server, ClientOptions(server), TestPki.Anchors);
        Assert.Equal("Chain", source);
        Assert.Equal(230, login.Code);

        // ...but once the user pinned another certificate for the host, the CA's word no longer counts.
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));
        var e = await Assert.ThrowsAsync<FtpException>(() => AuthTlsAndLogInAsync(server, ClientOptions(server), TestPki.Anchors));
        Assert.Equal("CertificateRejected", e.ErrorId);
        Assert.Contains("pin mismatch", e.Message);
    }

    [Fact]
    public async Task A_stored_pin_for_the_address_reached_counts_for_the_name_typed()
    {
        await using var server = await RunningServer.StartRootAsync();
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));
        // Typed as "localhost", reached at 127.0.0.1: the address's pin applies, as for X-SafeTP1 keys.
        var e = await Assert.ThrowsAsync<FtpException>(() => AuthTlsAndLogInAsync(server, ClientOptions(server, host: "localhost"), TestPki.Anchors));
        Assert.Equal("CertificateRejected", e.ErrorId);
    }

    [Fact]
    public async Task A_CA_valid_certificate_that_the_stored_pin_names_is_trusted_by_the_pin()
    {
        await using var server = await RunningServer.StartRootAsync();
        StorePin("127.0.0.1", Sha256(TestPki.Server), port: server.Port);
        var (source, login) = await AuthTlsAndLogInAsync(server, ClientOptions(server), TestPki.Anchors);
        Assert.Equal(TrustSources.TrustStore, source);
        Assert.Equal(230, login.Code);
    }

    [Fact]
    public async Task A_stored_pin_for_another_port_does_not_apply()
    {
        await using var server = await RunningServer.StartRootAsync();
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value), port: server.Port == 65535 ? 1 : server.Port + 1);
        var (source, _) = await AuthTlsAndLogInAsync(server, ClientOptions(server), TestPki.Anchors);
        Assert.Equal("Chain", source);
    }

    [Fact]
    public async Task Typed_and_stored_pins_add_up()
    {
        await using var server = await StartServerAsync(s_selfSigned.Value);
        StorePin("127.0.0.1", Sha256(s_otherSelfSigned.Value));
        var options = ClientOptions(server);
        options.PinnedFingerprints = new List<string> { Sha256(s_selfSigned.Value) };
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("Pinned", client.Security.TrustSource);
    }

    // ---- Test-SecureFtpServer's probe: the password goes where the client would send it, and nowhere else ----

    private ServerProbeOptions ProbeOptions(RunningServer server) => new()
    {
        Host = "127.0.0.1", Port = server.Port, ImplicitTlsPort = 0,
        Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
        TrustStorePath = _storeFolder, EnumerateCipherSuites = false, Timeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task The_probe_logs_in_to_a_self_signed_server_pinned_in_the_trust_store()
    {
        await using var server = await StartServerAsync(s_selfSigned.Value);
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));
        var result = await ServerProbe.ProbeAsync(ProbeOptions(server));
        Assert.True(result.LoginSucceeded);
    }

    [Fact]
    public async Task The_probe_sends_no_password_when_the_stored_pin_names_another_certificate()
    {
        await using var server = await StartServerAsync(s_otherSelfSigned.Value);
        StorePin("127.0.0.1", Sha256(s_selfSigned.Value));
        var result = await ServerProbe.ProbeAsync(ProbeOptions(server));
        Assert.NotEqual(true, result.LoginSucceeded);
        Assert.Contains(result.Notes, n => n.Contains("the password was not sent"));
        Assert.DoesNotContain(server.Log, l => l.Message.Contains("logged in", StringComparison.OrdinalIgnoreCase));
    }

    // ---- the decision itself, shared by the client, the probe and a future proxy ----

    [Fact]
    public void A_CA_valid_certificate_is_refused_by_the_shared_decision_when_a_stored_pin_names_another()
    {
        StorePin("files.example.test", Sha256(s_selfSigned.Value));
        var pins = CertificatePins.For(null, Store, "Files.Example.Test", 21, IPAddress.Parse("192.0.2.5"));
        bool caAsked = false;
        var decision = pins.Decide(TestPki.Server, () => { caAsked = true; return null; }); // the CA says yes
        Assert.False(decision.Accepted);
        Assert.True(decision.IsPinMismatch);
        Assert.False(caAsked); // a pinned host never depends on a CA

        Assert.Equal(TrustSources.TrustStore, pins.Decide(s_selfSigned.Value, () => "UntrustedRoot").TrustSource);
    }

    [Fact]
    public void Without_pins_the_CA_decides()
    {
        var pins = CertificatePins.For(new[] { " ", "" }, Store, "files.example.test", 21, null);
        Assert.True(pins.IsEmpty);
        Assert.Equal("Chain", pins.Decide(TestPki.Server, () => null).TrustSource);
        Assert.False(pins.Decide(s_selfSigned.Value, () => "UntrustedRoot").Accepted);
    }

    [Fact]
    public void An_unreadable_trust_store_is_an_error_not_an_absent_pin()
    {
        Directory.CreateDirectory(_storeFolder);
        File.WriteAllText(Path.Combine(_storeFolder, FileTrustStore.FileName), "127.0.0.1\tnot-a-port\n");
        var e = Assert.Throws<FtpException>(() => CertificatePins.For(null, Store, "127.0.0.1", 21, null));
        Assert.Equal("TrustStoreInvalid", e.ErrorId);
    }
}
