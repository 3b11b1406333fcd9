using System.Security.Authentication;
using System.Security.Cryptography;
using SecureFtp.Security.Tls;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>The TLS mechanism against a real vsftpd with require_ssl_reuse=YES: a data connection that does
/// not resume the control connection's session is refused with 522, so every transfer here that ends in 226
/// proves resumption.</summary>
public class VsftpdTlsTests
{
    public static IEnumerable<object[]> HostsAndVersions() =>
        from host in new[] { "127.0.0.1", "localhost" }
        from version in new[] { SslProtocols.Tls12, SslProtocols.Tls13 }
        select new object[] { host, version };

    [SkippableTheory]
    [MemberData(nameof(HostsAndVersions))]
    public async Task Download_resumes_the_control_session_so_vsftpd_accepts_it(string host, SslProtocols version)
    {
        using var server = TlsVsftpd.Start();
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        string name = server.PutFile(content);
        using var session = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host, version), TestPki.Anchors);

        Assert.Equal(version.ToString(), session.Security.Details.ProtocolVersion);
        Assert.Equal("TLS", session.Security.Details.Mechanism);
        Assert.Equal("Chain", session.Security.Details.TrustSource);

        // Two transfers: the second must resume as well.
        for (int i = 0; i < 2; i++)
        {
            var (received, final) = await session.RetrieveAsync(name);
            Assert.True(final.Code == 226, $"transfer {i + 1} by {host} over {version}: {final}\n{server.ReadServerLog()}");
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(received));
        }
        Assert.DoesNotContain("session reuse required", server.ReadServerLog());
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Empty_and_one_byte_files_round_trip(string host)
    {
        using var server = TlsVsftpd.Start();
        using var session = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors);
        foreach (var content in new[] { Array.Empty<byte>(), new byte[] { 0x5A } })
        {
            string name = server.PutFile(content);
            var (received, final) = await session.RetrieveAsync(name);
            Assert.True(final.Code == 226, $"{final}\n{server.ReadServerLog()}");
            Assert.Equal(content, received);
            string uploaded = "up-" + name;
            Assert.Equal(226, (await session.StoreAsync(uploaded, content)).Code);
            Assert.Equal(content, File.ReadAllBytes(server.LocalPath(uploaded)));
        }
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Two_sessions_to_the_same_host_each_resume_their_own_session(string host)
    {
        // SslStream keeps its sessions per host name, shared by every connection in the process: two FTP
        // sessions to one server must still each present a session vsftpd accepts.
        using var server = TlsVsftpd.Start();
        var content = RandomNumberGenerator.GetBytes(200_000);
        string name = server.PutFile(content);
        using var first = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors);
        using var second = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors);
        foreach (var session in new[] { first, second, first, second })
        {
            var (received, final) = await session.RetrieveAsync(name);
            Assert.True(final.Code == 226, $"{final}\n{server.ReadServerLog()}");
            Assert.Equal(content, received);
            Assert.Equal(226, (await session.StoreAsync("up-" + Guid.NewGuid().ToString("N"), content)).Code);
        }
    }

    [SkippableFact]
    public async Task Upload_ends_with_close_notify_which_strict_vsftpd_requires()
    {
        // strict_ssl_read_eof=YES: vsftpd fails an upload whose data connection ends without close_notify.
        using var server = TlsVsftpd.Start(); // strict_ssl_read_eof=YES
        var content = RandomNumberGenerator.GetBytes(1024 * 1024 + 5);
        foreach (var host in new[] { "127.0.0.1", "localhost" })
        {
            using var session = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors);
            string name = "up-" + Guid.NewGuid().ToString("N");
            var final = await session.StoreAsync(name, content);
            Assert.True(final.Code == 226, $"upload by {host}: {final}\n{server.ReadServerLog()}");
            Assert.Equal(content, File.ReadAllBytes(server.LocalPath(name)));
        }
    }

    [SkippableFact]
    public async Task Upload_without_close_notify_is_what_strict_vsftpd_refuses()
    {
        // The control for the test above: the same upload through a TLS stream closed without close_notify
        // must fail, or the test above proves nothing.
        using var server = TlsVsftpd.Start(); // strict_ssl_read_eof=YES
        using var session = await TlsTestSession.LoginAsync("localhost", server.Port, TlsTestSession.Options("localhost"), TestPki.Anchors);
        var (data, _) = await session.OpenDataAsync("STOR cut-" + Guid.NewGuid().ToString("N"));
        await data.WriteAsync(new byte[100_000]);
        var channel = Assert.IsAssignableFrom<TlsChannel>(data);
        // Mark close_notify as sent so Dispose only closes TCP.
        typeof(TlsChannel).GetProperty(nameof(TlsChannel.CloseNotifySent))!.SetValue(channel, true);
        await data.DisposeAsync();
        var final = await session.Control.ReadReplyAsync(CancellationToken.None);
        Assert.NotEqual(226, final.Code);
    }

    [SkippableFact]
    public async Task Pinned_certificate_is_accepted_without_a_trusted_chain()
    {
        using var server = TlsVsftpd.Start();
        string name = server.PutFile(new byte[] { 1, 2, 3 });
        var pins = new[]
        {
            TestPki.Sha256Hex(TestPki.Server),                                                   // SHA-256, colons
            Convert.ToHexString(SHA1.HashData(TestPki.Server.RawData)).ToLowerInvariant(),        // SHA-1, lower case
            Convert.ToBase64String(SHA256.HashData(TestPki.Server.PublicKey.ExportSubjectPublicKeyInfo())), // SPKI, base64
        };
        foreach (var pin in pins)
        {
            var options = TlsTestSession.Options("127.0.0.1");
            options.PinnedFingerprints.Add(pin);
            using var session = await TlsTestSession.LoginAsync("127.0.0.1", server.Port, options, anchors: null);
            Assert.Equal("Pinned", session.Security.Details.TrustSource);
            Assert.Equal(TestPki.Sha256Hex(TestPki.Server), session.Security.Details.PeerFingerprint);
            Assert.Equal("CN=localhost", session.Security.Details.PeerName);
            var (content, final) = await session.RetrieveAsync(name);
            Assert.Equal(226, final.Code);
            Assert.Equal(new byte[] { 1, 2, 3 }, content);
        }
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Pin_mismatch_is_rejected_before_any_command_is_sent(string host)
    {
        using var server = TlsVsftpd.Start();
        var options = TlsTestSession.Options(host);
        options.PinnedFingerprints.Add(new string('a', 64));
        var e = await Assert.ThrowsAsync<FtpException>(() => TlsTestSession.LoginAsync(host, server.Port, options, TestPki.Anchors));
        AssertRejected(e, host, "pin mismatch");
        await Task.Delay(200);
        Assert.DoesNotContain("USER", server.ReadServerLog());
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Name_mismatch_is_rejected(string host)
    {
        using var server = TlsVsftpd.Start(TestPki.OtherName);
        var e = await Assert.ThrowsAsync<FtpException>(() => TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors));
        AssertRejected(e, host, "name mismatch", TestPki.OtherName);
        await Task.Delay(200);
        Assert.DoesNotContain("USER", server.ReadServerLog());
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Untrusted_chain_is_rejected(string host)
    {
        using var server = TlsVsftpd.Start();
        var e = await Assert.ThrowsAsync<FtpException>(() => TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), anchors: null));
        AssertRejected(e, host, "chain errors");
        Assert.DoesNotContain("USER", server.ReadServerLog());
    }

    [SkippableFact]
    public async Task Skipped_check_accepts_and_warns()
    {
        using var server = TlsVsftpd.Start(TestPki.OtherName);
        var options = TlsTestSession.Options("127.0.0.1");
        options.SkipCertificateCheck = true;
        using var session = await TlsTestSession.LoginAsync("127.0.0.1", server.Port, options, anchors: null);
        Assert.Equal("Skipped", session.Security.Details.TrustSource);
        var warning = Assert.Single(session.Warnings);
        Assert.Contains("127.0.0.1", warning);
        Assert.Contains(TestPki.Sha256Hex(TestPki.OtherName), warning);
    }

    [SkippableFact]
    public async Task Auth_ssl_is_accepted_and_implies_private_data()
    {
        using var server = TlsVsftpd.Start();
        string name = server.PutFile(new byte[] { 42 });
        using var session = await TlsTestSession.LoginAsync("127.0.0.1", server.Port, TlsTestSession.Options("127.0.0.1"), TestPki.Anchors, mechanismName: "SSL");
        Assert.True(session.Security.ImpliesPrivateData);
        Assert.Equal("SSL", session.Security.Details.Mechanism);
        var (content, final) = await session.RetrieveAsync(name);
        Assert.Equal(226, final.Code);
        Assert.Equal(new byte[] { 42 }, content);
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Implicit_tls_wraps_before_the_greeting(string host)
    {
        using var server = TlsVsftpd.Start(implicitTls: true);
        string name = server.PutFile(new byte[] { 7, 7 });
        using var session = await TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors, implicitTls: true);
        Assert.Equal("Implicit TLS", session.Security.Details.Mechanism);
        var (content, final) = await session.RetrieveAsync(name);
        Assert.Equal(226, final.Code);
        Assert.Equal(new byte[] { 7, 7 }, content);
    }

    [SkippableFact]
    public async Task Ccc_refused_by_vsftpd_leaves_the_session_protected_and_usable()
    {
        // vsftpd does not implement CCC: the refusal is a plain negative reply and TLS stays on.
        using var server = TlsVsftpd.Start();
        string name = server.PutFile(new byte[] { 9 });
        using var session = await TlsTestSession.LoginAsync("127.0.0.1", server.Port, TlsTestSession.Options("127.0.0.1"), TestPki.Anchors);
        var reply = await session.Control.ExecuteAsync("CCC", CancellationToken.None);
        Assert.True(reply.Code >= 500, reply.ToString());
        Assert.IsAssignableFrom<TlsChannel>(session.Control.Transport);
        var (_, final) = await session.RetrieveAsync(name);
        Assert.Equal(226, final.Code);
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Client_certificate_is_presented_when_the_server_requires_one(string host)
    {
        string[] requireClientCert = { "ssl_request_cert=YES", "require_cert=YES", "validate_cert=YES", "ca_certs_file={dir}/ca.pem" };
        using var server = TlsVsftpd.Start(null, false, requireClientCert);
        string name = server.PutFile(new byte[] { 5 });

        var options = TlsTestSession.Options(host);
        options.ClientCertificate = TestPki.Client;
        using (var session = await TlsTestSession.LoginAsync(host, server.Port, options, TestPki.Anchors))
        {
            var (content, final) = await session.RetrieveAsync(name);
            Assert.True(final.Code == 226, $"{final}\n{server.ReadServerLog()}");
            Assert.Equal(new byte[] { 5 }, content);
        }

        // The control: without the certificate vsftpd refuses the handshake.
        await Assert.ThrowsAsync<FtpException>(() => TlsTestSession.LoginAsync(host, server.Port, TlsTestSession.Options(host), TestPki.Anchors));
    }

    private static void AssertRejected(FtpException e, string host, string reason, System.Security.Cryptography.X509Certificates.X509Certificate2? cert = null)
    {
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("CertificateRejected", e.ErrorId);
        Assert.Contains(host, e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Contains(TestPki.Sha256Hex(cert ?? TestPki.Server), e.Message);
    }
}
