using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using SecureFtp.Tests.Client;
using SecureFtp.Tests.Rfc2228;
using Xunit;

namespace SecureFtp.Tests.Mitm;

/// <summary>The man in the middle on a cleartext control channel (plain vsftpd, reached under the Allow policy): the
/// only place where it can read and rewrite the PASV reply.</summary>
public sealed class PlainVsftpdMitmTests(PlainVsftpdFixture server) : IClassFixture<PlainVsftpdFixture>
{
    private static readonly IPAddress AttackerAddress = IPAddress.Parse("127.0.0.2");

    [SkippableFact]
    public async Task A_PASV_reply_rewritten_to_the_attackers_address_is_not_followed()
    {
        server.Require();
        var file = server.CreateFile("mitm/pasv.bin", 150_000);
        TcpListener? attacker = null;
        await using var proxy = new TamperingProxy(server.Port, async (fromClient, line, wire) =>
        {
            var pasv = Regex.Match(line, @"^227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)");
            if (fromClient || !pasv.Success) return false;
            int port = int.Parse(pasv.Groups[5].Value, System.Globalization.CultureInfo.InvariantCulture) * 256 + int.Parse(pasv.Groups[6].Value, System.Globalization.CultureInfo.InvariantCulture);
            // The attacker waits on the announced port at its own address, ready to serve or swallow the data.
            attacker = new TcpListener(AttackerAddress, port);
            attacker.Start();
            await wire.ToClient($"227 Entering Passive Mode ({AttackerAddress.ToString().Replace('.', ',')},{port / 256},{port % 256}).");
            return true;
        });
        var options = server.ClientOptions(server.Host);
        options.Port = proxy.Port;
        options.Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls };
        options.FallbackPolicy = FallbackPolicy.Allow;
        options.DataProtection = null;
        options.UseExtendedPassive = false; // EPSV names no address: nothing to rewrite
        options.TrustStorePath = Directory.CreateTempSubdirectory("mitm-trust-").FullName;

        try
        {
            using var client = await FtpClient.ConnectAsync(options);
            var received = new MemoryStream();
            await client.DownloadAsync(file.RemotePath, received);

            Assert.NotNull(attacker); // the rewrite happened, so the check below means something
            Assert.Equal(file.Sha256, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(received.ToArray())));
            Assert.False(attacker!.Pending(), "the client connected to the address the attacker wrote into the PASV reply");
        }
        finally
        {
            attacker?.Stop();
            Directory.Delete(options.TrustStorePath, true);
        }
    }
}
