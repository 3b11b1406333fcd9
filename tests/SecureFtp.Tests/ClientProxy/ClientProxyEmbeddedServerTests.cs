using System.Net;
using SecureFtp.Security;
using SecureFtp.Server;
using SecureFtp.Tests.EndToEnd;
using SecureFtp.Tests.Infrastructure;
using SecureFtp.Tests.SafeTp;
using SecureFtp.Tests.Server;
using SecureFtp.Trust;
using Xunit;
using static SecureFtp.Tests.ClientProxy.LegacyThroughProxy;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>Issue 18: unmodified legacy clients (curl ftp://, lftp with ssl-allow off, tnftp) through the client proxy
/// to the embedded server over TLS, X-SafeTP1 and KEA-SKIPJACK. The legacy side is cleartext on loopback; upstream the
/// server's log shows the secured session, and every file arrives with its SHA-256 intact both ways.</summary>
public sealed class ClientProxyEmbeddedServerTests : IDisposable
{
    private static readonly int[] Sizes = { 0, 1, 3 * 1024 * 1024 + 5 };
    private readonly string _work = Directory.CreateTempSubdirectory("secureftp-client-proxy-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private static FtpClientOptions TlsUpstream() => new()
    {
        Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
        PinnedFingerprints = new List<string> { TestCertificates.Current.ServerSha256 },
        ReadTimeout = TimeSpan.FromSeconds(30),
        DataTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Upload each size with curl, list, download each back; the server's copy and the downloaded copy match.</summary>
    private async Task CurlRoundTripAsync(RunningServer server, RunningProxy proxy, string user, bool active, int[]? sizes = null)
    {
        sizes ??= Sizes;
        foreach (int size in sizes)
        {
            string name = $"curl-{size}-{(active ? "active" : "passive")}.bin";
            string local = WriteRandomFile(_work, name, size);
            var up = await CurlUploadAsync(proxy.Port, user, RunningServer.Password, local, name, active);
            Assert.True(up.ExitCode == 0, $"upload of {size} B: {up}\n{proxy.LogText}\n{server.LogText}");
            Assert.Equal(Sha256Of(local), Sha256Of(server.LocalPath(name)));

            string back = Path.Combine(_work, "back-" + name);
            var down = await CurlDownloadAsync(proxy.Port, user, RunningServer.Password, name, back, active);
            Assert.True(down.ExitCode == 0, $"download of {size} B: {down}\n{proxy.LogText}\n{server.LogText}");
            Assert.Equal(Sha256Of(local), Sha256Of(back));
        }
        var list = await CurlListAsync(proxy.Port, user, RunningServer.Password, active: active);
        Assert.True(list.ExitCode == 0, list.ToString());
        foreach (int size in sizes) Assert.Contains($"curl-{size}-{(active ? "active" : "passive")}.bin", list.StandardOutput);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Curl_through_a_fixed_upstream_proxy_to_the_embedded_server_over_TLS(bool active)
    {
        await using var server = await RunningServer.StartRootAsync();
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        // Issue 18's sizes: 0 B, 1 B and 32 MiB.
        await CurlRoundTripAsync(server, proxy, RunningServer.UserName, active, new[] { 0, 1, 32 * 1024 * 1024 });

        // Upstream it was TLS with protected data; the password never appears in either log.
        Assert.Contains(server.Log, e => e.Message == "AUTH TLS");
        Assert.Contains(server.Log, e => e.Message == "PROT P");
        Assert.DoesNotContain(RunningServer.Password, proxy.LogText + server.LogText);
        Assert.True(proxy.Proxy.BytesDownloaded >= 32 * 1024 * 1024 + 1);
        Assert.True(proxy.Proxy.BytesUploaded >= 32 * 1024 * 1024 + 1);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lftp_routed_by_USER_at_host_to_the_embedded_server_over_SafeTp(bool active)
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); EndToEndKit.WithSafeTp(o); });
        var upstream = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, 0, "", "");
        await using var proxy = await RunningProxy.StartAsync(null, upstream);
        string user = $"{RunningServer.UserName}@127.0.0.1:{server.Port}";

        var files = Sizes.Select(size => WriteRandomFile(_work, $"lftp-{size}.bin", size)).ToList();
        string puts = string.Join("; ", files.Select(f => $"put {f} -o {Path.GetFileName(f)}"));
        string gets = string.Join("; ", files.Select(f => $"get {Path.GetFileName(f)} -o {Path.Combine(_work, "back-" + Path.GetFileName(f))}"));
        var result = await LftpAsync(proxy.Port, user, RunningServer.Password, $"{puts}; cls -l; {gets}", active);
        Assert.True(result.ExitCode == 0, $"{result}\n{proxy.LogText}\n{server.LogText}");
        foreach (var f in files)
        {
            Assert.Equal(Sha256Of(f), Sha256Of(server.LocalPath(Path.GetFileName(f))));
            Assert.Equal(Sha256Of(f), Sha256Of(Path.Combine(_work, "back-" + Path.GetFileName(f))));
            Assert.Contains(Path.GetFileName(f), result.StandardOutput);
        }
        Assert.Contains(server.Log, e => e.Message.Contains("X-SafeTP1"));
        Assert.Contains("data protection Private", proxy.LogText);
        Assert.DoesNotContain(RunningServer.Password, proxy.LogText + server.LogText);
    }

    [SkippableFact]
    public async Task Curl_through_the_proxy_to_the_embedded_server_over_KeaSkipjack()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); EndToEndKit.WithKea(o, RunningServer.UserName); });
        var upstream = EndToEndKit.ClientOptions(FtpMechanism.KeaSkipjack, 0, "", "");
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", upstream);
        await CurlRoundTripAsync(server, proxy, RunningServer.UserName, active: false);
        Assert.Contains(server.Log, e => e.Message.Contains("KEA-SKIPJACK"));
        Assert.Contains("data protection Private", proxy.LogText);
    }

    [SkippableTheory]
    [InlineData("tnftp", false)]
    [InlineData("tnftp", true)]
    [InlineData("inetutils-ftp", false)]
    [InlineData("inetutils-ftp", true)]
    public async Task Bsd_style_ftp_clients_through_the_proxy_to_the_embedded_server_over_TLS(string client, bool active)
    {
        await using var server = await RunningServer.StartRootAsync();
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        var files = Sizes.Select(size => WriteRandomFile(_work, $"{client}-{size}.bin", size)).ToList();
        var commands = new List<string>();
        foreach (var f in files) commands.Add($"put {f} {Path.GetFileName(f)}");
        commands.Add("ls");
        foreach (var f in files) commands.Add($"get {Path.GetFileName(f)} {Path.Combine(_work, "back-" + Path.GetFileName(f))}");
        var result = client == "tnftp"
            ? await TnftpAsync(proxy.Port, RunningServer.UserName, RunningServer.Password, commands, active)
            : await InetutilsFtpAsync(proxy.Port, RunningServer.UserName, RunningServer.Password, commands, active);
        Assert.True(result.ExitCode == 0, $"{result}\n{proxy.LogText}");
        foreach (var f in files)
        {
            Assert.True(File.Exists(server.LocalPath(Path.GetFileName(f))), $"{Path.GetFileName(f)} not uploaded: {result}\n{proxy.LogText}");
            Assert.Equal(Sha256Of(f), Sha256Of(server.LocalPath(Path.GetFileName(f))));
            Assert.Equal(Sha256Of(f), Sha256Of(Path.Combine(_work, "back-" + Path.GetFileName(f))));
            Assert.Contains(Path.GetFileName(f), result.StandardOutput);
        }
        Assert.Equal(2 * files.Count + 1, proxy.Proxy.TransfersCompleted);
        Assert.Equal(0, proxy.Proxy.TransfersAborted);
    }

    [Fact]
    public async Task A_changed_server_key_is_refused_before_the_password_leaves()
    {
        string store = Path.Combine(_work, "trust");
        // The server the store trusts for this address and port holds another key (a stand-in took its place).
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); o.AddSafeTp(SafeTpTestKit.ServerKey, new() { MinimumElGamalBits = 1024 }); });
        await using (var genuine = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); o.AddSafeTp(SafeTpTestKit.OtherServerKey, new() { MinimumElGamalBits = 1024 }); }))
        {
            var first = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, genuine.Port, RunningServer.UserName, RunningServer.Password);
            first.TrustStorePath = store;
            using var client = await FtpClient.ConnectAsync(first);
            await client.DisconnectAsync();
        }
        var trust = new FileTrustStore(store);
        foreach (var key in trust.GetAll().ToList())
            trust.Add(new TrustedKey { Host = key.Host, Port = server.Port, KeyType = key.KeyType, PublicKey = key.PublicKey, Fingerprint = key.Fingerprint, Brand = key.Brand, AddedUtc = key.AddedUtc, Source = key.Source });

        var upstream = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, 0, "", "");
        upstream.TrustStorePath = store;
        await using var proxy = await RunningProxy.StartAsync(null, upstream, o => o.Client.AcceptNewKey = true);

        // A raw legacy client shows the exact reply; curl shows the user what it shows.
        using (var legacy = await RawLegacyClient.ConnectAsync(proxy.Port))
        {
            Assert.Equal(220, (await legacy.ReadReplyAsync()).Code);
            var user = await legacy.SendAsync($"USER {RunningServer.UserName}@127.0.0.1:{server.Port}");
            Assert.True(user.Code == 530, user.Text);
            Assert.Contains("CHANGED", user.Text);
            Assert.Contains($"127.0.0.1:{server.Port}", user.Text);
            Assert.Contains("trust store", user.Text);   // what happened; Start-SecureFtpClientProxy adds the command to run (Advice)
            var pass = await legacy.SendAsync("PASS " + RunningServer.Password);
            Assert.True(pass.Code == 503, pass.Text);
        }
        var curl = await CurlListAsync(proxy.Port, $"{RunningServer.UserName}@127.0.0.1:{server.Port}", RunningServer.Password);
        Assert.NotEqual(0, curl.ExitCode);

        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && (e.Message.StartsWith("USER", StringComparison.Ordinal) || e.Message.StartsWith("PASS", StringComparison.Ordinal)));
        Assert.True(proxy.Proxy.RefusedSessions >= 2);
    }

    [Fact]
    public async Task An_unknown_key_is_refused_without_AcceptKey_and_says_what_to_run()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); EndToEndKit.WithSafeTp(o); });
        var upstream = EndToEndKit.ClientOptions(FtpMechanism.SafeTp, 0, "", "");
        upstream.AcceptNewKey = false;
        upstream.TrustStorePath = Path.Combine(_work, "empty-trust");
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", upstream);
        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        var greeting = await legacy.ReadReplyAsync();
        Assert.True(greeting.Code == 421, greeting.Text);
        Assert.Contains("nobody could be asked", greeting.Text, StringComparison.Ordinal);   // what happened; the cmdlet adds -AcceptKey (Advice)
        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && (e.Message.StartsWith("USER", StringComparison.Ordinal) || e.Message.StartsWith("PASS", StringComparison.Ordinal)));
        Assert.Empty(new FileTrustStore(upstream.TrustStorePath).GetAll());
    }

    [Fact]
    public async Task A_certificate_that_fails_the_check_is_refused_with_the_reason()
    {
        await using var server = await RunningServer.StartRootAsync();
        var upstream = TlsUpstream();
        upstream.PinnedFingerprints.Clear(); // the test CA is not trusted by the system: the chain check fails
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", upstream);
        var curl = await CurlListAsync(proxy.Port, RunningServer.UserName, RunningServer.Password);
        Assert.NotEqual(0, curl.ExitCode);
        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        var greeting = await legacy.ReadReplyAsync();
        Assert.True(greeting.Code == 421, greeting.Text);
        Assert.Contains("127.0.0.1", greeting.Text);
        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && (e.Message.StartsWith("USER", StringComparison.Ordinal) || e.Message.StartsWith("PASS", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task No_mechanism_under_policy_Refuse_is_refused_before_any_credential()
    {
        // A plain server: AUTH is refused, the policy is Refuse.
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = null; o.Mechanisms.Clear(); o.AllowInsecure = true; });
        await using var proxy = await RunningProxy.StartAsync($"127.0.0.1:{server.Port}", TlsUpstream());
        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        var greeting = await legacy.ReadReplyAsync();
        Assert.True(greeting.Code == 421, greeting.Text);
        Assert.Contains("No credential was sent", greeting.Text);
        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && (e.Message.StartsWith("USER", StringComparison.Ordinal) || e.Message.StartsWith("PASS", StringComparison.Ordinal)));
    }

    /// <summary>A capture of the upstream leg (the server on its own loopback address) shows neither the password nor the
    /// contents; the capture of the legacy leg, taken at the same time, shows both, so the capture itself works.</summary>
    [SkippableFact]
    public async Task The_upstream_leg_carries_neither_password_nor_contents()
    {
        if (!Environment.IsPrivilegedProcess) Peer.Unavailable("packet capture needs root.");
        var address = IPAddress.Parse($"127.78.{Random.Shared.Next(1, 254)}.{Random.Shared.Next(1, 254)}");
        await using var server = await RunningServer.StartRootAsync(o => o.ListenAddress = address);
        await using var proxy = await RunningProxy.StartAsync($"{address}:{server.Port}", TlsUpstream());
        string marker = "Proxy-Contents-Marker-" + Guid.NewGuid().ToString("N");
        string local = Path.Combine(_work, "marked.txt");
        File.WriteAllText(local, string.Concat(Enumerable.Repeat(marker + "\n", 1000)));

        using var upstreamLeg = await PacketCapture.StartAsync($"host {address}");
        using var legacyLeg = await PacketCapture.StartAsync($"tcp port {proxy.Port}");
        var up = await CurlUploadAsync(proxy.Port, RunningServer.UserName, RunningServer.Password, local, "marked.txt");
        Assert.True(up.ExitCode == 0, up.ToString());
        string back = Path.Combine(_work, "marked-back.txt");
        var down = await CurlDownloadAsync(proxy.Port, RunningServer.UserName, RunningServer.Password, "marked.txt", back, active: false, "--disable-epsv");
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Equal(File.ReadAllText(local), File.ReadAllText(back));
        var upstream = await upstreamLeg.StopAsync();
        var legacy = await legacyLeg.StopAsync();

        Assert.True(PacketCapture.Contains(legacy, RunningServer.Password), "the legacy-leg capture should show the cleartext password: " + legacyLeg.Messages);
        Assert.True(upstream.Length > 10_000, "the upstream capture is empty: " + upstreamLeg.Messages);
        Assert.False(PacketCapture.Contains(upstream, RunningServer.Password), "the password crossed the upstream leg in clear");
        Assert.False(PacketCapture.Contains(upstream, marker), "file contents crossed the upstream leg in clear");
        Assert.False(PacketCapture.Contains(upstream, "USER " + RunningServer.UserName), "the login crossed the upstream leg in clear");
    }

    /// <summary>The upstream data connection is cut (RST) in the middle of a download: the legacy client gets its data
    /// connection reset and a 426, never the 226 that would make it keep a truncated file.</summary>
    [SkippableFact]
    public async Task A_cut_upstream_data_connection_is_never_reported_as_226()
    {
        if (!Environment.IsPrivilegedProcess) Peer.Unavailable("cutting a connection with ss -K needs root.");
        // The server on its own loopback address, so its data connections can be told apart from everything else.
        var address = IPAddress.Parse($"127.77.{Random.Shared.Next(1, 254)}.{Random.Shared.Next(1, 254)}");
        await using var server = await RunningServer.StartRootAsync(o => o.ListenAddress = address);
        server.CreateFile("big.bin", 32 * 1024 * 1024);
        await using var proxy = await RunningProxy.StartAsync($"{address}:{server.Port}", TlsUpstream());

        using var legacy = await RawLegacyClient.ConnectAsync(proxy.Port);
        Assert.Equal(220, (await legacy.ReadReplyAsync()).Code);
        Assert.Equal(331, (await legacy.SendAsync("USER " + RunningServer.UserName)).Code);
        Assert.Equal(230, (await legacy.SendAsync("PASS " + RunningServer.Password)).Code);
        Assert.Equal(200, (await legacy.SendAsync("TYPE I")).Code);
        var epsv = await legacy.SendAsync("EPSV");
        int port = int.Parse(epsv.Text.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture);
        using var data = new System.Net.Sockets.TcpClient();
        await data.ConnectAsync(IPAddress.Loopback, port);
        var opened = await legacy.SendAsync("RETR big.bin");
        Assert.Equal(150, opened.Code);

        var stream = data.GetStream();
        var buffer = new byte[64 * 1024];
        long received = 0;
        while (received < 2 * 1024 * 1024)
        {
            int n = await stream.ReadAsync(buffer);
            Assert.True(n > 0, "the data ended before the cut");
            received += n;
        }
        // Cut every upstream connection to the server except the control connection.
        var cut = await ExternalProcess.RunAsync("/usr/bin/ss", new[] { "-K", "dst", address.ToString(), "dport", "!=", $":{server.Port}" }, TimeSpan.FromSeconds(10));
        Assert.True(cut.ExitCode == 0, cut.ToString());

        bool dataEndedCleanly = false;
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(buffer);
                if (n == 0) { dataEndedCleanly = true; break; }
                received += n;
            }
        }
        catch (IOException) { /* reset: what a cut must look like */ }
        var final = await legacy.ReadReplyAsync();
        Assert.True(final.Code is 426 or 451, $"after {received} of {32 * 1024 * 1024} bytes: {final.Text}\n{proxy.LogText}");
        Assert.False(dataEndedCleanly && received < 32 * 1024 * 1024 && final.Code == 226);
        Assert.DoesNotContain(legacy.Transcript, l => l.StartsWith("226", StringComparison.Ordinal));
        Assert.True(received < 32 * 1024 * 1024);

        // The session is still usable afterwards.
        Assert.Equal(257, (await legacy.SendAsync("PWD")).Code);
    }
}
