using System.Security.Authentication;
using SecureFtp.Security;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.Tls;

/// <summary>What each data connection's TLS handshake costs, seen on the wire against a real vsftpd.</summary>
public sealed class DataHandshakeTests(VsftpdFixture fixture) : IClassFixture<VsftpdFixture>
{
    /// <summary>The ServerHello random that marks a HelloRetryRequest (RFC 8446 s.4.1.3).</summary>
    private static readonly byte[] HelloRetryRequestRandom = Convert.FromHexString(
        "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    /// <summary>vsftpd takes only P-256 while a TLS 1.3 client offers an X25519 key share first, so the control
    /// connection pays one HelloRetryRequest to learn the server's group. The data connections must not pay it
    /// again, each of them: it is a round trip and a second key generation per file.</summary>
    [SkippableFact]
    public async Task Data_connections_offer_the_key_share_the_control_connection_learned()
    {
        var server = fixture.Require();
        var served = server.CreateFile("handshake/small.bin", 4096);
        using var capture = await PacketCapture.StartAsync(server);
        var options = PrivateByAddress(server);
        options.TlsProtocols = SslProtocols.Tls13;
        using (var client = await FtpClient.ConnectAsync(options))
        {
            Assert.Equal("Tls13", client.Security.ProtocolVersion);
            for (int i = 0; i < 3; i++)
            {
                var received = new MemoryStream();
                await client.DownloadAsync(served.RemotePath, received);
                Assert.Equal(4096, received.Length);
            }
            await client.DisconnectAsync();
        }
        var captured = await capture.StopAsync();

        int retries = Occurrences(captured, HelloRetryRequestRandom);
        Assert.True(retries <= 1, $"{retries} HelloRetryRequests in a session of one control and three data connections: the data connections did not offer the server's group");
    }

    /// <summary>The data connection's ClientHello is generated while the RETR reply is on its way, but goes out only
    /// after a 1xx: a refused transfer leaves nothing sent on its data connection, and the session goes on.</summary>
    [SkippableFact]
    public async Task A_refused_download_sends_no_handshake_and_the_session_goes_on()
    {
        var server = fixture.Require();
        var served = server.CreateFile("handshake/present.bin", 1000);
        using var capture = await PacketCapture.StartAsync(server);
        using (var client = await FtpClient.ConnectAsync(PrivateByAddress(server)))
        {
            var e = await Assert.ThrowsAsync<FtpException>(() => client.DownloadAsync(server.RemotePath("handshake/missing.bin"), new MemoryStream()));
            Assert.Contains("550", e.Message);
            var received = new MemoryStream();
            await client.DownloadAsync(served.RemotePath, received);
            Assert.Equal(1000, received.Length);
            await client.DisconnectAsync();
        }
        var captured = await capture.StopAsync();

        // A TLS record header (handshake, legacy version 3.1) holding a ClientHello (type 1) shorter than 64 KiB.
        int clientHellos = 0;
        for (int i = 0; i + 6 < captured.Length; i++)
            if (captured[i] == 0x16 && captured[i + 1] == 0x03 && captured[i + 2] == 0x01 && captured[i + 5] == 0x01 && captured[i + 6] == 0x00)
                clientHellos++;
        Assert.True(clientHellos == 2, $"{clientHellos} ClientHellos on the wire; expected the control connection's and the one completed download's");
    }

    /// <summary>With pipelining (the default on a TLS control connection) a download's MDTM, EPSV and RETR go out
    /// in one flight; without it, one at a time. Both fetch the same bytes and keep the server's time.</summary>
    [SkippableFact]
    public async Task Pipelined_downloads_send_their_commands_in_one_flight_and_fetch_the_same_files()
    {
        var server = fixture.Require();
        var served = Enumerable.Range(1, 5).Select(i => server.CreateFile($"pipeline/f{i}.bin", 3000 + i)).ToList();
        string local = Directory.CreateTempSubdirectory("secureftp-pipeline-").FullName;
        try
        {
            async Task<int> ControlFlightsAsync(bool pipeline)
            {
                using var capture = await PacketCapture.StartAsync($"tcp port {server.Port}");
                var options = PrivateByAddress(server);
                options.PipelineCommands = pipeline;
                using (var client = await FtpClient.ConnectAsync(options))
                {
                    await client.DownloadFileAsync(served[0].RemotePath, Path.Combine(local, "warm.bin"), overwrite: true); // TYPE I and the first SIZE
                    foreach (var file in served)
                    {
                        string path = Path.Combine(local, $"{pipeline}-{Path.GetFileName(file.RemotePath)}");
                        await client.DownloadFileAsync(file.RemotePath, path);
                        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(path));
                        Assert.Equal(File.GetLastWriteTimeUtc(file.LocalPath), File.GetLastWriteTimeUtc(path), TimeSpan.FromSeconds(1));
                    }
                    await client.DisconnectAsync();
                }
                var captured = await capture.StopAsync();
                return PacketCapture.TcpSegments(captured).Count(s => s.DestinationPort == server.Port);
            }

            int oneAtATime = await ControlFlightsAsync(pipeline: false);
            int pipelined = await ControlFlightsAsync(pipeline: true);

            // Per download: MDTM, EPSV, RETR one segment each, against one segment for all three.
            Assert.True(oneAtATime - pipelined >= 2 * served.Count,
                $"client segments on the control connection: {pipelined} pipelined, {oneAtATime} one at a time");
        }
        finally { Directory.Delete(local, true); }
    }

    /// <summary>The fixture's options by IP literal (the OpenSSL path every user with an address takes), PROT P.</summary>
    private static FtpClientOptions PrivateByAddress(FtpServerFixture server)
    {
        var options = server.ClientOptions("127.0.0.1");
        options.DataProtection = DataProtectionLevel.Private;
        return options;
    }

    private static int Occurrences(byte[] haystack, byte[] needle)
    {
        int count = 0;
        var rest = haystack.AsSpan();
        for (int at; (at = rest.IndexOf(needle)) >= 0; rest = rest[(at + needle.Length)..]) count++;
        return count;
    }
}
