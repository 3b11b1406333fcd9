using System.Collections.Concurrent;
using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.Rfc2228;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Mitm;

/// <summary>Issue 6's man in the middle between <see cref="FtpClient"/> and a real vsftpd with explicit TLS: it strips
/// AUTH, shows its own certificate, or refuses PROT P; each policy reacts as the issue says, and no credential
/// crosses in cleartext where the policy forbids it.</summary>
public sealed class TlsVsftpdMitmTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>, IDisposable
{
    private readonly string _trustStore = Directory.CreateTempSubdirectory("mitm-trust-").FullName;

    public void Dispose() => Directory.Delete(_trustStore, true);

    /// <summary>The fixture's options aimed at <paramref name="proxyPort"/>: TLS only, the real certificate pinned,
    /// an empty trust store of this test's own.</summary>
    private FtpClientOptions OptionsThrough(int proxyPort)
    {
        var options = server.ClientOptions(server.Host);
        options.Port = proxyPort;
        options.TrustStorePath = _trustStore;
        return options;
    }

    /// <summary>The proxy that strips AUTH: it answers 500 to every AUTH itself and never forwards it, and keeps
    /// every command the client sent to it.</summary>
    private TamperingProxy AuthStrippingProxy(ConcurrentQueue<string> commandsFromClient) => new(server.Port, async (fromClient, line, wire) =>
    {
        if (!fromClient) return false;
        commandsFromClient.Enqueue(line);
        if (!line.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase)) return false;
        await wire.ToClient("500 AUTH not understood.");
        return true;
    });

    /// <summary>Stripped AUTH without a pin or a stored key: the fallback policy alone decides.</summary>
    private FtpClientOptions UnpinnedOptionsThrough(int proxyPort, FallbackPolicy policy, List<string> warnings)
    {
        var options = OptionsThrough(proxyPort);
        options.PinnedFingerprints.Clear();
        options.DataProtection = null;
        options.FallbackPolicy = policy;
        options.Warning = warnings.Add;
        return options;
    }

    [SkippableFact]
    public async Task Stripped_AUTH_under_Refuse_stops_before_any_credential_crosses_the_client_leg()
    {
        server.Require();
        var commands = new ConcurrentQueue<string>();
        await using var proxy = AuthStrippingProxy(commands);
        using var capture = await PacketCapture.StartAsync($"tcp port {proxy.Port}");
        var warnings = new List<string>();

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(UnpinnedOptionsThrough(proxy.Port, FallbackPolicy.Refuse, warnings)));

        Assert.Equal(("SecurityNotAvailable", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
        Assert.Contains("No credential was sent", e.Message);
        byte[] wire = await capture.StopAsync();
        Assert.True(PacketCapture.Contains(wire, "AUTH TLS"), "the capture must hold the client's AUTH, or it proves nothing: " + capture.Messages);
        Assert.False(PacketCapture.Contains(wire, "USER "), "USER crossed the client leg");
        Assert.False(PacketCapture.Contains(wire, "PASS "), "PASS crossed the client leg");
        Assert.False(PacketCapture.Contains(wire, server.Password), "the password crossed the client leg");
        Assert.DoesNotContain(commands, c => c.StartsWith("USER", StringComparison.Ordinal) || c.StartsWith("PASS", StringComparison.Ordinal));
        Assert.Empty(warnings);
    }

    [SkippableFact]
    public async Task Stripped_AUTH_under_Warn_warns_and_goes_on_in_cleartext()
    {
        server.Require();
        var commands = new ConcurrentQueue<string>();
        await using var proxy = AuthStrippingProxy(commands);
        var warnings = new List<string>();

        // The client goes on; what stops the session is vsftpd's own force_local_logins_ssl (530 to USER).
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(UnpinnedOptionsThrough(proxy.Port, FallbackPolicy.Warn, warnings)));

        Assert.Single(warnings);
        Assert.Contains("CLEARTEXT", warnings[0]);
        Assert.Contains(commands, c => c.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Equal("LoginRefused", e.ErrorId);
        Assert.Contains("may require a secure connection", e.Message);
    }

    [SkippableFact]
    public async Task Stripped_AUTH_under_Allow_goes_on_quietly()
    {
        server.Require();
        var commands = new ConcurrentQueue<string>();
        await using var proxy = AuthStrippingProxy(commands);
        var warnings = new List<string>();

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(UnpinnedOptionsThrough(proxy.Port, FallbackPolicy.Allow, warnings)));

        Assert.Empty(warnings);
        Assert.Contains(commands, c => c.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Equal("LoginRefused", e.ErrorId);
    }

    [SkippableTheory]
    [InlineData(FallbackPolicy.Refuse)]
    [InlineData(FallbackPolicy.Warn)]
    [InlineData(FallbackPolicy.Allow)]
    public async Task Stripped_AUTH_for_a_host_with_a_stored_key_is_refused_whatever_the_policy(FallbackPolicy policy)
    {
        server.Require();
        var commands = new ConcurrentQueue<string>();
        await using var proxy = AuthStrippingProxy(commands);
        var warnings = new List<string>();
        var options = UnpinnedOptionsThrough(proxy.Port, policy, warnings);
        new FileTrustStore(_trustStore).Add(TrustedKey.FromPublicKey(options.Host, proxy.Port, "TLS", server.Certificates.Server.PublicKey.ExportSubjectPublicKeyInfo(), null, "OutOfBand"));

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));

        Assert.Equal(("CoercedFallbackRefused", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
        Assert.Contains(_trustStore, e.Message);
        Assert.Empty(warnings);
        Assert.DoesNotContain(commands, c => c.StartsWith("USER", StringComparison.Ordinal) || c.StartsWith("PASS", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [InlineData(FallbackPolicy.Refuse)]
    [InlineData(FallbackPolicy.Allow)]
    public async Task Stripped_AUTH_for_a_pinned_host_is_refused_whatever_the_policy(FallbackPolicy policy)
    {
        server.Require();
        var commands = new ConcurrentQueue<string>();
        await using var proxy = AuthStrippingProxy(commands);
        var options = OptionsThrough(proxy.Port); // the fixture pins the real certificate
        options.DataProtection = null;
        options.FallbackPolicy = policy;

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));

        Assert.Equal(("CoercedFallbackRefused", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
        Assert.DoesNotContain(commands, c => c.StartsWith("USER", StringComparison.Ordinal) || c.StartsWith("PASS", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_swapped_certificate_is_rejected_naming_host_and_fingerprint_and_nothing_is_sent_after(bool pinned)
    {
        server.Require();
        using var attacker = TlsInterceptingProxy.AttackerCertificate();
        await using var proxy = new TlsInterceptingProxy(server.Port, attacker);
        var options = OptionsThrough(proxy.Port);
        if (!pinned) options.PinnedFingerprints.Clear(); // chain and name validation decide

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));

        Assert.Equal(("CertificateRejected", FtpErrorKind.Security), (e.ErrorId, e.Kind));
        Assert.Contains(options.Host, e.Message);
        Assert.Contains(attacker.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), e.Message.Replace(":", ""), StringComparison.OrdinalIgnoreCase);
        await proxy.Finished.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(proxy.CommandsAfterTls);
    }

    [SkippableFact]
    public async Task The_intercepting_proxy_relays_a_whole_session_when_it_shows_the_real_certificate()
    {
        // The control for the test above: with the certificate the client expects, the same proxy is invisible.
        server.Require();
        await using var proxy = new TlsInterceptingProxy(server.Port, server.Certificates.Server);
        using (var client = await FtpClient.ConnectAsync(OptionsThrough(proxy.Port)))
        {
            Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
            Assert.StartsWith("/", await client.GetWorkingDirectoryAsync()); // the session still answers, in step: PWD gives a path
        }
        Assert.Contains(proxy.CommandsAfterTls, c => c.StartsWith("PASS ", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_data_connection_that_makes_a_full_handshake_with_another_certificate_is_refused()
    {
        // A data connection that resumes the control connection's session is not checked again: the session's
        // secret proves the peer. One that does not resume makes a full handshake, and that certificate must pass
        // the check. Here a middlebox the client trusts on the control connection sends the data connection to an
        // attacker's listener, which cannot resume the session and shows a certificate of its own.
        server.Require();
        using var attacker = TlsInterceptingProxy.AttackerCertificate();
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int attackerPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var attackerSide = Task.Run(async () =>
        {
            using var tcp = await listener.AcceptTcpClientAsync();
            using var tls = new System.Net.Security.SslStream(tcp.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(attacker);
                await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes("forged contents"));
                await tls.ShutdownAsync();
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException) { }
        });
        await using var proxy = new TlsInterceptingProxy(server.Port, server.Certificates.Server, command =>
            command == "EPSV" ? $"229 Entering Extended Passive Mode (|||{attackerPort}|)"
            : command.StartsWith("RETR ", StringComparison.Ordinal) ? "150 Opening BINARY mode data connection." : null);
        var options = OptionsThrough(proxy.Port);
        options.DataProtection = DataProtectionLevel.Private;
        using var client = await FtpClient.ConnectAsync(options);
        var received = new MemoryStream();

        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadAsync("/any.bin", received));

        Assert.Equal(("CertificateRejected", FtpErrorKind.Security), (e.ErrorId, e.Kind));
        Assert.Contains(attacker.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), e.Message.Replace(":", ""), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, received.Length);
        // The transfer was aborted and the session brought back in step: the next command gets its own answer.
        Assert.Equal("/", await client.GetWorkingDirectoryAsync());
        Assert.Contains("ABOR", proxy.CommandsAfterTls);
        listener.Stop();
        await attackerSide.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [SkippableFact]
    public async Task Downloads_take_the_size_the_150_reply_announces_instead_of_SIZE_and_still_catch_a_short_file()
    {
        // vsftpd's 150 says "(4096 bytes)": after the first download has seen that, fresh downloads skip SIZE (a
        // round trip per file), and the announced size is the length check. A middlebox inflates it to prove it.
        // (Data in clear: vsftpd would refuse a PROT P data connection resuming the proxy's session, not its own.)
        var s = server.Require();
        var served = s.CreateFile("announced/f.bin", 4096);
        bool inflate = false;
        await using var proxy = new TlsInterceptingProxy(server.Port, server.Certificates.Server,
            rewriteReply: line => inflate && line.StartsWith("150 ", StringComparison.Ordinal) ? line.Replace("(4096 bytes)", "(5000 bytes)") : line);
        var options = OptionsThrough(proxy.Port);
        options.DataProtection = DataProtectionLevel.Clear;
        using var client = await FtpClient.ConnectAsync(options);
        string local = Path.Combine(_trustStore, "f.bin");
        await client.DownloadFileAsync(served.RemotePath, local, overwrite: true);
        await client.DownloadFileAsync(served.RemotePath, local, overwrite: true);
        Assert.Equal(served.Sha256, FtpServerFixture.Sha256Of(local));
        Assert.Single(proxy.CommandsAfterTls, c => c.StartsWith("SIZE ", StringComparison.Ordinal));

        inflate = true;
        File.Delete(local);
        var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadFileAsync(served.RemotePath, local));

        Assert.Equal(("TransferTruncated", FtpErrorKind.Truncated), (e.ErrorId, e.Kind));
        Assert.Contains("5000", e.Message);
        Assert.False(File.Exists(local), "a short download must not take the final name");
    }

    [SkippableTheory]
    [InlineData("534 Request denied for policy reasons.")]
    [InlineData("536 Requested PROT level not supported by mechanism.")]
    [InlineData("521 Data connection cannot be opened with this PROT setting.")]
    public async Task PROT_P_refused_in_transit_fails_the_connection_saying_which_policy_was_not_met(string refusal)
    {
        // A middlebox the client trusts (it holds the pinned certificate's key) refuses PROT P in the server's name.
        server.Require();
        await using var proxy = new TlsInterceptingProxy(server.Port, server.Certificates.Server,
            command => command.StartsWith("PROT P", StringComparison.OrdinalIgnoreCase) ? refusal : null);
        var options = OptionsThrough(proxy.Port);
        options.DataProtection = DataProtectionLevel.Private;

        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));

        Assert.Equal(("DataProtectionRefused", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
        Assert.Contains("PROT P", e.Message);
        Assert.Contains(refusal.Substring(0, 3), e.Message);
        Assert.Contains("protection level was not met", e.Message);
    }
}
