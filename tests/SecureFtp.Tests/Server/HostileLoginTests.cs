using System.Diagnostics;
using System.Net;
using SecureFtp.Server;
using Xunit;

namespace SecureFtp.Tests.Server;

/// <summary>Start-SecureFtpServer against clients that hold connections and guess passwords (issue 12, "Server"):
/// connection limits per server and per address, a login deadline NOOP does not move, an idle timeout after login,
/// and failed logins that get slower and run out. The attackers connect from 127.0.0.2 and up, so they count as
/// other addresses than the real user on 127.0.0.1.</summary>
public class HostileLoginTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static async Task<HostileClient> LoginPlainAsync(int port, string from, string user = RunningServer.UserName, string password = RunningServer.Password)
    {
        var client = await HostileClient.ConnectAsync(port, from);
        await client.ExpectAsync(220);
        await client.CommandAsync("USER " + user, 331);
        await client.CommandAsync("PASS " + password, 230);
        return client;
    }

    [Fact]
    public async Task One_address_cannot_take_every_slot_and_the_real_user_is_served()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.MaxConnectionsPerAddress = 8);
        var held = new List<HostileClient>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var attacker = await HostileClient.ConnectAsync(server.Port, "127.0.0.2");
                await attacker.ExpectAsync(220);
                held.Add(attacker);
            }
            using (var ninth = await HostileClient.ConnectAsync(server.Port, "127.0.0.2"))
            {
                var refused = await ninth.ExpectAsync(421);
                Assert.Contains("from your address", refused.Message);
                Assert.True(await ninth.ClosedByServerAsync(TimeSpan.FromSeconds(10)));
            }
            // The real user, from another address, is served while the attacker holds its 8 connections.
            using var user = await server.ConnectRawAsync();
            await user.LoginOverTlsAsync(RunningServer.UserName, RunningServer.Password);
            RawControl.Expect(257, await user.SendAsync("PWD"));
            Assert.Contains(server.Log, e => e.Kind == SecureFtpServerLogKind.Warning && e.Message.Contains("from your address"));
        }
        finally
        {
            foreach (var a in held) a.Dispose();
        }
    }

    [Fact]
    public async Task The_server_wide_limit_refuses_with_421_and_frees_slots_as_connections_close()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.MaxConnections = 5; o.MaxConnectionsPerAddress = 0; });
        var held = new List<HostileClient>();
        for (int i = 0; i < 5; i++)
        {
            var c = await HostileClient.ConnectAsync(server.Port, "127.0.0.2");
            await c.ExpectAsync(220);
            held.Add(c);
        }
        using (var sixth = await HostileClient.ConnectAsync(server.Port, "127.0.0.3"))
            Assert.Contains("Too many connections", (await sixth.ExpectAsync(421)).Message);
        held[0].Dispose();
        // The slot comes back once the server has seen the close.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var again = await HostileClient.ConnectAsync(server.Port, "127.0.0.3");
            var reply = await again.ReadReplyAsync();
            if (reply?.Code == 220) break;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the closed connection's slot was never given back");
            await Task.Delay(100);
        }
        foreach (var c in held) c.Dispose();
    }

    [Fact]
    public async Task Two_hundred_simultaneous_clients_are_all_served()
    {
        await using var server = await RunningServer.StartRootAsync(o => o.AllowInsecure = true, keepLog: e => e.Kind == SecureFtpServerLogKind.Warning);
        // 200 users on 50 addresses (4 each), all logged in at the same time.
        var clients = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => LoginPlainAsync(server.Port, $"127.0.1.{10 + i / 4}")));
        try
        {
            await Task.WhenAll(clients.Select(c => c.CommandAsync("PWD", 257)));
            Assert.Equal(200, server.Server.ActiveSessions);
            Assert.DoesNotContain(server.Log, e => e.Message.StartsWith("Refused", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Fact]
    public async Task NOOP_does_not_extend_the_login_deadline()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.LoginTimeout = TimeSpan.FromSeconds(2); o.AllowInsecure = true; });
        using var attacker = await HostileClient.ConnectAsync(server.Port, "127.0.0.2");
        await attacker.ExpectAsync(220);
        // The real user logs in within the deadline and is not cut at it.
        using var user = await LoginPlainAsync(server.Port, "127.0.0.1");
        var clock = Stopwatch.StartNew();
        string? closedWith = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            try { await attacker.SendLineAsync("NOOP"); }
            catch (IOException) { } // closed already: the 421 is waiting to be read
            var reply = await attacker.ReadReplyAsync();
            if (reply == null || reply.Code == 421)
            {
                closedWith = reply?.Message;
                break;
            }
            await Task.Delay(200);
        }
        output.WriteLine($"attacker closed after {clock.Elapsed.TotalSeconds:0.0} s: {closedWith}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"a NOOP-ing client without login lasted {clock.Elapsed.TotalSeconds:0.0} s (deadline 2 s)");
        Assert.Contains("Login timeout", closedWith);
        await user.CommandAsync("NOOP", 200);
    }

    [Fact]
    public async Task A_logged_in_client_that_goes_idle_is_closed()
    {
        await using var server = await RunningServer.StartRootAsync(o => { o.IdleTimeout = TimeSpan.FromSeconds(1.5); o.AllowInsecure = true; });
        using var user = await LoginPlainAsync(server.Port, "127.0.0.1");
        var reply = await user.ExpectAsync(421, TimeSpan.FromSeconds(10));
        Assert.Contains("Idle timeout", reply.Message);
    }

    [Fact]
    public async Task Password_guessing_gets_slower_and_runs_out_for_the_address_while_the_user_still_logs_in()
    {
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.AllowInsecure = true;
            o.FailedLoginDelay = TimeSpan.FromMilliseconds(200);
            o.MaxFailedLoginDelay = TimeSpan.FromMilliseconds(800);
            o.MaxFailedLoginsPerAddress = 6;
        });
        var delays = new List<TimeSpan>();
        for (int connection = 0; connection < 2; connection++)
        {
            using var attacker = await HostileClient.ConnectAsync(server.Port, "127.0.0.2");
            await attacker.ExpectAsync(220);
            for (int guess = 0; guess < 3; guess++)
            {
                await attacker.CommandAsync("USER " + RunningServer.UserName, 331);
                var clock = Stopwatch.StartNew();
                await attacker.CommandAsync("PASS guess-" + guess, 530);
                delays.Add(clock.Elapsed);
            }
        }
        output.WriteLine("530 after: " + string.Join(", ", delays.Select(d => $"{d.TotalMilliseconds:0} ms")));
        Assert.True(delays[0] >= TimeSpan.FromMilliseconds(180), $"first guess answered in {delays[0].TotalMilliseconds:0} ms");
        Assert.True(delays[2] >= TimeSpan.FromMilliseconds(750), $"third guess answered in {delays[2].TotalMilliseconds:0} ms: the delay does not grow");
        Assert.True(delays.Max() < TimeSpan.FromSeconds(3), "the delay is capped");

        // The budget is spent: the attacker's address is refused before it can guess again, with the reason.
        using (var again = await HostileClient.ConnectAsync(server.Port, "127.0.0.2"))
            Assert.Contains("Too many failed logins from your address", (await again.ExpectAsync(421)).Message);
        Assert.Contains(server.Log, e => e.Kind == SecureFtpServerLogKind.Warning && e.Message.Contains("Login failed for 'alice' from 127.0.0.2 (6 failures"));

        // The real user, from their own address, logs in at once.
        var userClock = Stopwatch.StartNew();
        using var user = await LoginPlainAsync(server.Port, "127.0.0.1");
        Assert.True(userClock.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Guessing_one_user_from_many_addresses_runs_out_too()
    {
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.AllowInsecure = true;
            o.FailedLoginDelay = TimeSpan.FromMilliseconds(10);
            o.MaxFailedLoginsPerUser = 3;
            o.Users.Add(new NetworkCredential("bob", "bob-secret-1"));
        });
        for (int i = 0; i < 3; i++)
        {
            using var attacker = await HostileClient.ConnectAsync(server.Port, $"127.0.0.{3 + i}");
            await attacker.ExpectAsync(220);
            await attacker.CommandAsync("USER " + RunningServer.UserName, 331);
            await attacker.CommandAsync("PASS wrong-" + i, 530);
        }
        // Even the right password is refused now, without being checked; another user is not affected.
        using var next = await HostileClient.ConnectAsync(server.Port, "127.0.0.9");
        await next.ExpectAsync(220);
        await next.CommandAsync("USER " + RunningServer.UserName, 331);
        Assert.Contains("Too many failed logins for alice", (await next.CommandAsync("PASS " + RunningServer.Password, 530)).Message);
        using var bob = await LoginPlainAsync(server.Port, "127.0.0.9", "bob", "bob-secret-1");
    }

    [Fact]
    public async Task The_failed_login_delay_never_outlasts_the_login_deadline()
    {
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.AllowInsecure = true;
            o.LoginTimeout = TimeSpan.FromSeconds(2);
            o.FailedLoginDelay = TimeSpan.FromSeconds(60);
            o.MaxFailedLoginDelay = TimeSpan.FromSeconds(60);
        });
        using var attacker = await HostileClient.ConnectAsync(server.Port, "127.0.0.2");
        await attacker.ExpectAsync(220);
        var clock = Stopwatch.StartNew();
        await attacker.CommandAsync("USER " + RunningServer.UserName, 331);
        await attacker.SendLineAsync("PASS wrong");
        Assert.True(await attacker.ClosedByServerAsync(TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the connection was held {clock.Elapsed.TotalSeconds:0.0} s");
        await Task.Delay(200);
        Assert.Equal(0, server.Server.ActiveSessions);
    }

    [Fact]
    public void The_failed_login_record_is_bounded_whatever_names_and_addresses_the_attacker_invents()
    {
        var throttle = new LoginThrottle(new SecureFtpServerOptions());
        long before = GC.GetTotalMemory(true);
        for (int i = 0; i < 60_000; i++)
            throttle.RecordFailure(new IPAddress(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i }), "user-" + i);
        Assert.True(throttle.TrackedKeys <= 2 * LoginThrottle.MaxTrackedKeys, $"{throttle.TrackedKeys} keys kept");
        output.WriteLine($"60000 invented names and addresses: {throttle.TrackedKeys} keys kept, {(GC.GetTotalMemory(true) - before) / 1024} KiB");
    }
}
