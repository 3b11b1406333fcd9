using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Server;
using SecureFtp.Tests.Infrastructure;
using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>The server's security policy (RFC 4217 s.10, s.13; seed 000 s.6) and RFC 959 replies, checked line by
/// line on a raw control connection, plus what a legacy client sees when the policy refuses it.</summary>
public class ServerPolicyTests
{
    [Fact]
    public async Task RequireSecureRefusesUserBeforeAuthButLetsAnonymousIn()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowAnonymous = true);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        var refused = Expect(530, await raw.SendAsync("USER " + RunningServer.UserName));
        Assert.Contains("AUTH TLS", refused.Message);
        // Per-user rule (RFC 4217 s.10.1): anonymous may log in without TLS, read-only.
        Expect(331, await raw.SendAsync("USER anonymous"));
        Expect(230, await raw.SendAsync("PASS guest@example.org"));
        Expect(550, await raw.SendAsync("DELE anything"));
        Expect(221, await raw.SendAsync("QUIT"));
    }

    [Fact]
    public async Task AnonymousInClearCanBeRefusedToo()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.AllowAnonymous = true; o.AllowAnonymousInClear = false; });
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(530, await raw.SendAsync("USER anonymous"));
    }

    [SkippableFact]
    public async Task CurlWithoutTlsIsRefusedBeforeItSendsThePassword()
    {
        Peer.Require("curl");
        await using var server = await RunningServer.StartRootAsync();
        string target = Path.Combine(Path.GetTempPath(), "secureftp-refused-" + Guid.NewGuid().ToString("N"));
        var result = await LegacyClients.CurlDownloadAsync(ClientSecurity.None, server.Port, "x", target);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("530", result.StandardError);
        Assert.DoesNotContain(server.Log, e => e.Kind == SecureFtpServerLogKind.Command && e.Message.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProtectedDataRequirementRefusesProtCAndClearTransfers()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.RequireProtectedData = true);
        server.CreateFile("f.bin", 10);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));
        Expect(503, await raw.SendAsync("PROT P")); // PBSZ must come first (RFC 4217 s.9)
        Expect(200, await raw.SendAsync("PBSZ 0"));
        Expect(534, await raw.SendAsync("PROT C"));
        Expect(227, await raw.SendAsync("PASV"));
        // Still at the initial PROT C: the transfer is refused before any 1xx (RFC 4217 s.10.2).
        Expect(521, await raw.SendAsync("RETR f.bin"));
        Expect(536, await raw.SendAsync("PROT S"));
        Expect(200, await raw.SendAsync("PROT P"));
    }

    [Fact]
    public async Task CccIsRefusedAndPbszProtNeedAuth()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(533, await raw.SendAsync("CCC"));
        Expect(503, await raw.SendAsync("PBSZ 0"));
        Expect(503, await raw.SendAsync("PROT P"));
        Expect(503, await raw.SendAsync("ADAT AAAA"));
        Expect(504, await raw.SendAsync("AUTH X-Unknown"));
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        // Seed 000 s.6.5: CCC is refused once protected, too.
        Expect(534, await raw.SendAsync("CCC"));
        Expect(503, await raw.SendAsync("AUTH TLS"));
    }

    [Fact]
    public async Task FeatAdvertisesSecurityAndExtensions()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        var feat = Expect(211, await raw.SendAsync("FEAT"));
        var lines = feat.Lines.Select(l => l.Trim()).ToList();
        Assert.Contains("AUTH TLS;TLS-C;SSL;TLS-P", lines);
        Assert.Contains("PBSZ", lines);
        Assert.Contains("PROT", lines);
        Assert.Contains("EPSV", lines);
        Assert.Contains("SIZE", lines);
        Assert.Contains(lines, l => l.StartsWith("MLST ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReinClearsTlsAsRfc4217Section13Says()
    {
        await using var server = await RunningServer.StartRootAsync();
        using var raw = await server.ConnectRawAsync();
        await raw.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
        // The reply comes protected; then both sides exchange close_notify and go on in cleartext.
        Expect(220, await raw.SendAsync("REIN"));
        await raw.StopTlsAsync();
        Expect(200, await raw.SendAsync("NOOP"));
        // The session is fresh: logged out, and the policy again refuses a cleartext login.
        Expect(530, await raw.SendAsync("PWD"));
        Expect(530, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(503, await raw.SendAsync("PROT P"));
        // Security can be negotiated again on the same connection.
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));
        Expect(257, await raw.SendAsync("PWD"));
    }

    [Fact]
    public async Task AuthAfterLoginResetsTheUser()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));
        Expect(234, await raw.SendAsync("AUTH TLS"));
        await raw.StartTlsAsync();
        // RFC 4217 s.4: the user must log in again after AUTH.
        Expect(530, await raw.SendAsync("PWD"));
    }

    [Fact]
    public async Task CommandsBeforeLoginWrongPasswordsAndReplyCodes()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(530, await raw.SendAsync("LIST"));
        Expect(530, await raw.SendAsync("PASV"));
        Expect(503, await raw.SendAsync("PASS x"));
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(530, await raw.SendAsync("PASS wrong"));
        Expect(331, await raw.SendAsync("USER nobody"));
        Expect(530, await raw.SendAsync("PASS " + RunningServer.Password));
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));
        Expect(215, await raw.SendAsync("SYST"));
        Expect(200, await raw.SendAsync("OPTS UTF8 ON"));
        Expect(200, await raw.SendAsync("TYPE A"));
        Expect(200, await raw.SendAsync("TYPE I"));
        Expect(504, await raw.SendAsync("TYPE E"));
        Expect(200, await raw.SendAsync("MODE S"));
        Expect(504, await raw.SendAsync("MODE B"));
        Expect(200, await raw.SendAsync("STRU F"));
        Expect(504, await raw.SendAsync("STRU R"));
        Expect(257, await raw.SendAsync("MKD dir"));
        Expect(550, await raw.SendAsync("MKD dir"));
        Expect(250, await raw.SendAsync("CWD dir"));
        Expect(257, await raw.SendAsync("PWD"));
        Expect(250, await raw.SendAsync("CDUP"));
        Expect(550, await raw.SendAsync("SIZE nothing"));
        Expect(350, await raw.SendAsync("RNFR dir"));
        Expect(250, await raw.SendAsync("RNTO dir2"));
        Expect(503, await raw.SendAsync("RNTO dir3"));
        Expect(250, await raw.SendAsync("MLST dir2"));
        Expect(250, await raw.SendAsync("RMD dir2"));
        Expect(425, await raw.SendAsync("RETR f"));
        Expect(350, await raw.SendAsync("REST 10"));
        Expect(214, await raw.SendAsync("HELP"));
        Expect(211, await raw.SendAsync("STAT"));
        Expect(200, await raw.SendAsync("NOOP"));
        Expect(502, await raw.SendAsync("XYZZ"));
        Expect(500, await raw.SendAsync("PORT 10,0,0,9,200,1")); // another host: bounce attack refused
        Expect(500, await raw.SendAsync("PORT 127,0,0,1,0,21")); // privileged port
        Expect(200, await raw.SendAsync("EPRT |1|127.0.0.1|40000|"));
        Expect(229, await raw.SendAsync("EPSV"));
        Expect(221, await raw.SendAsync("QUIT"));
    }

    [Fact]
    public async Task PathsCannotEscapeTheRoot()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        string outside = Directory.CreateTempSubdirectory("secureftp-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "secret.txt"), "outside the root");
            Directory.CreateDirectory(server.LocalPath("inside"));
            Directory.CreateSymbolicLink(server.LocalPath("inside/link"), outside);
            File.CreateSymbolicLink(server.LocalPath("filelink"), Path.Combine(outside, "secret.txt"));
            using var raw = await server.ConnectRawAsync();
            Assert220(await raw.ReadAsync());
            Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
            Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));

            Expect(250, await raw.SendAsync("CWD ../../.."));
            Assert.Contains("\"/\"", Expect(257, await raw.SendAsync("PWD")).Message);
            Expect(550, await raw.SendAsync("SIZE ../../" + outside.TrimStart('/') + "/secret.txt"));
            Expect(550, await raw.SendAsync("SIZE " + outside + "/secret.txt")); // absolute paths start at the root
            Expect(550, await raw.SendAsync("CWD inside/link"));
            Expect(550, await raw.SendAsync("SIZE inside/link/secret.txt"));
            Expect(550, await raw.SendAsync("SIZE filelink"));
            Expect(550, await raw.SendAsync("MDTM /filelink"));
            Expect(227, await raw.SendAsync("PASV"));
            Expect(550, await raw.SendAsync("RETR /inside/link/secret.txt"));
            Expect(553, await raw.SendAsync("STOR inside/link/new.txt"));
            Assert.False(File.Exists(Path.Combine(outside, "new.txt")));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task AnAbortedUploadDoesNotReplaceTheFile()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        string original = server.CreateFile("keep.bin", 5000);
        using var raw = await server.ConnectRawAsync();
        Assert220(await raw.ReadAsync());
        Expect(331, await raw.SendAsync("USER " + RunningServer.UserName));
        Expect(230, await raw.SendAsync("PASS " + RunningServer.Password));
        var pasv = Expect(227, await raw.SendAsync("PASV"));
        var endPoint = SecureFtp.Server.ServerDataChannel.ParseHostPort(pasv.Message.Split('(', ')')[1])!;
        Expect(150, await raw.SendAsync("STOR keep.bin"));
        using var data = new TcpClient();
        await data.ConnectAsync(endPoint);
        await data.GetStream().WriteAsync(new byte[1000]);
        await data.GetStream().FlushAsync();
        // ABOR while the data connection is still open: the upload is incomplete and must be thrown away.
        await raw.Control.SendAsync("ABOR", CancellationToken.None);
        Expect(426, await raw.ReadAsync());
        Expect(226, await raw.ReadAsync());
        Assert.Equal(original, LegacyClients.Sha256Of(server.LocalPath("keep.bin")));
        Assert.Equal(new[] { "keep.bin" }, Directory.GetFiles(server.RootDirectory!).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task NoPasswordReachesTheLog()
    {
        Peer.Require("curl");
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true);
        server.CreateFile("f.bin", 100);
        string target = Path.Combine(Path.GetTempPath(), "secureftp-log-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Equal(0, (await LegacyClients.CurlDownloadAsync(ClientSecurity.None, server.Port, "f.bin", target)).ExitCode);
            Assert.NotEqual(0, (await LegacyClients.CurlDownloadAsync(ClientSecurity.None, server.Port, "f.bin", target, password: "Wrong-" + RunningServer.Password)).ExitCode);
            Assert.Equal(0, (await LegacyClients.CurlDownloadAsync(ClientSecurity.ExplicitTls, server.Port, "f.bin", target)).ExitCode);
        }
        finally
        {
            File.Delete(target);
        }
        Assert.Contains(server.Log, e => e.Message == "PASS ****");
        Assert.Contains(server.Log, e => e.Message.Contains("Login failed"));
        Assert.DoesNotContain(RunningServer.Password, server.LogText);
    }

    [Fact]
    public async Task OptionsAreCheckedAndPortZeroPicksAFreePort()
    {
        await Assert.ThrowsAsync<FtpException>(() => new SecureFtpServer(new SecureFtpServerOptions()).StartAsync());
        await Assert.ThrowsAsync<FtpException>(() => new SecureFtpServer(new SecureFtpServerOptions { Root = "/", Upstream = "127.0.0.1:21" }).StartAsync());
        await Assert.ThrowsAsync<FtpException>(() => new SecureFtpServer(new SecureFtpServerOptions { Root = Path.GetTempPath() }).StartAsync()); // TLS without a certificate
        var certificate = SecureFtpServer.CreateSelfSignedCertificate("localhost");
        Assert.True(certificate.HasPrivateKey);
        await using var server = await RunningServer.StartRootAsync(o => { o.Certificate = certificate; o.ImplicitTlsPort = 0; });
        Assert.NotEqual(0, server.Port);
        Assert.NotEqual(0, server.Server.ImplicitTlsPort);
        Assert.True(server.Server.IsRunning);
        using var raw = await server.ConnectRawAsync(server.Server.ImplicitTlsPort);
        await raw.StartTlsAsync();
        Assert220(await raw.ReadAsync());
        Assert.Equal(certificate.Thumbprint, new System.Security.Cryptography.X509Certificates.X509Certificate2(raw.Tls!.RemoteCertificate!).Thumbprint);
        await server.Server.StopAsync();
        Assert.False(server.Server.IsRunning);
    }
}
