using System.Net;
using System.Security.Cryptography;
using SecureFtp;
using SecureFtp.Security;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.Client;

/// <summary>REIN through the client against the embedded server, which follows RFC 4217 s.13: the 220 comes
/// protected, TLS is cleared, and the client negotiates security and logs in again before anything else.</summary>
public class ReinitializeTests
{
    [Fact]
    public async Task ReinClearsTlsThenTheClientSecuresAndLogsInAgain()
    {
        await using var server = await RunningServer.StartRootAsync();
        string hash = server.CreateFile("after-rein.bin", 100_000);
        var trace = new List<string>();
        var options = TlsOptions(server, (sent, line) => { lock (trace) trace.Add((sent ? "> " : "< ") + line); });
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal("TLS", client.Security.Mechanism);

        await client.ReinitializeAsync();

        Assert.Equal("TLS", client.Security.Mechanism);
        Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
        Assert.Equal(RunningServer.UserName, client.UserName);
        var data = new MemoryStream();
        await client.DownloadAsync("/after-rein.bin", data);
        Assert.Equal(hash, Convert.ToHexString(SHA256.HashData(data.ToArray())), ignoreCase: true);
        // The second AUTH TLS and login came after REIN, and the password never appears in the trace.
        int rein = trace.FindIndex(l => l == "> REIN");
        Assert.True(rein > 0);
        Assert.Contains(trace.Skip(rein), l => l == "> AUTH TLS");
        Assert.Contains(trace.Skip(rein), l => l == "> PASS ****");
        Assert.DoesNotContain(trace, l => l.Contains(RunningServer.Password));
    }

    [Fact]
    public async Task CommandsTheUserChoosesGoBeforeAuth()
    {
        // RFC 4217 s.10.3: the user decides what is sent before AUTH (here NOOP and FEAT), and AUTH need not be first.
        await using var server = await RunningServer.StartRootAsync();
        var trace = new List<string>();
        var options = TlsOptions(server, (sent, line) => { if (sent) lock (trace) trace.Add(line); });
        options.PreAuthCommands.Add("NOOP");
        options.PreAuthCommands.Add("FEAT");
        using var client = await FtpClient.ConnectAsync(options);
        Assert.Equal(new[] { "NOOP", "FEAT", "AUTH TLS" }, trace.Take(3));
        Assert.Equal("TLS", client.Security.Mechanism);
    }

    /// <summary>AUTH TLS to the embedded server, its certificate pinned, every line of the conversation traced.</summary>
    private static FtpClientOptions TlsOptions(RunningServer server, Action<bool, string> trace)
    {
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
            Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
            Trace = trace,
        };
        options.PinnedFingerprints.Add(server.Server.Options.Certificate!.GetCertHashString(HashAlgorithmName.SHA256));
        return options;
    }
}
