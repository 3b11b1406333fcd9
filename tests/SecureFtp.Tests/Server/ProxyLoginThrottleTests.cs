using SecureFtp.Server;
using SecureFtp.Tests.Client;
using Xunit;
using static SecureFtp.Tests.Server.RawControl;

namespace SecureFtp.Tests.Server;

/// <summary>Password guessing through the proxy (issue 12): the ftpd checks the password, the proxy still counts the
/// failure against the address and the user name, slows the 530 and refuses the address once its budget is spent.</summary>
public class ProxyLoginThrottleTests(PlainVsftpdFixture vsftpd) : IClassFixture<PlainVsftpdFixture>
{
    [SkippableFact]
    public async Task The_proxy_slows_and_budgets_guesses_the_ftpd_refuses()
    {
        vsftpd.Require();
        await using var proxy = await RunningServer.StartProxyAsync($"127.0.0.1:{vsftpd.Port}", o =>
        {
            o.FailedLoginDelay = TimeSpan.FromMilliseconds(300);
            o.MaxFailedLoginsPerAddress = 2;
        });
        for (int guess = 0; guess < 2; guess++)
        {
            using var attacker = await proxy.ConnectRawAsync();
            Assert220(await attacker.ReadAsync());
            Expect(234, await attacker.SendAsync("AUTH TLS"));
            await attacker.StartTlsAsync();
            Expect(331, await attacker.SendAsync("USER " + vsftpd.User));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Expect(530, await attacker.SendAsync("PASS wrong-" + guess));
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(280), $"guess {guess} answered in {clock.Elapsed.TotalMilliseconds:0} ms");
        }
        Assert.Contains(proxy.Log, e => e.Kind == SecureFtpServerLogKind.Warning && e.Message.StartsWith($"Login failed for '{vsftpd.User}' from 127.0.0.1 (2 failures", StringComparison.Ordinal));
        using var refused = await HostileClient.ConnectAsync(proxy.Port);
        Assert.Contains("Too many failed logins from your address", (await refused.ExpectAsync(421)).Message);
    }
}
