using System.Net;
using System.Text;
using SecureFtp.Security.SafeTp;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.SafeTp;

public class KeyExchangeTests
{
    private static ArraySegment<byte> Bytes(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Exchange_establishes_both_sides_and_commands_and_replies_pass_both_ways()
    {
        using var client = SafeTpTestKit.Client();
        using var server = SafeTpTestKit.Server();
        var messages = SafeTpTestKit.Exchange(client, server);

        Assert.Equal(4, messages.Count); // 334 key, ADAT key+challenge, 335 master key, ADAT challenge answer
        Assert.True(client.IsEstablished);
        Assert.True(server.IsEstablished);
        Assert.False(server.HasOutgoingAdat);
        Assert.Equal("Example Corp FTP", client.Details.PeerName);
        Assert.Equal(SafeTpTestKit.ServerKey.Fingerprint, client.Details.PeerFingerprint);
        Assert.Equal("X-SafeTP1 (DSA 2048, ElGamal 1024)", client.Details.ProtocolVersion);
        Assert.Equal(client.Details.ProtocolVersion, server.Details.ProtocolVersion);
        Assert.Equal("3DES-EDE-CBC/HMAC-SHA1", client.Details.Cipher);

        var command = client.Encode(Bytes("PASS secret"));
        Assert.DoesNotContain("secret", Encoding.ASCII.GetString(command));
        Assert.Equal("PASS secret", Encoding.UTF8.GetString(server.Decode(new(command))));
        var reply = server.Encode(Bytes("230 Logged in"));
        Assert.Equal("230 Logged in", Encoding.UTF8.GetString(client.Decode(new(reply))));
    }

    [Fact]
    public void Control_tokens_stay_within_the_advertised_bounds()
    {
        using var client = SafeTpTestKit.Client();
        using var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);
        foreach (int n in new[] { 0, 1, 7, 8, 100, 1000 })
        {
            var token = client.Encode(new ArraySegment<byte>(new byte[n]));
            Assert.True(token.Length <= client.MaximumEncodedSize(n));
            Assert.True(server.MaximumDecodedSize(token.Length) >= n);
            Assert.Equal(n, server.Decode(new(token)).Length);
        }
    }

    [Fact]
    public void Unknown_key_is_refused_when_nobody_accepts_it_and_nothing_is_recorded()
    {
        var store = new MemoryTrustStore();
        using var client = SafeTpTestKit.Client(store, new FtpClientOptions());
        using var server = SafeTpTestKit.Server();
        var e = Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client, server));
        Assert.Equal(FtpErrorKind.Trust, e.Kind);
        Assert.Equal("ServerKeyUntrusted", e.ErrorId);
        Assert.Contains(SafeTpTestKit.ServerKey.Fingerprint, e.Message);
        Assert.Contains("Example Corp FTP", e.Message);
        Assert.Empty(store.GetAll());
    }

    [Fact]
    public void ErrorOnUntrusted_refuses_without_asking()
    {
        bool asked = false;
        var options = new FtpClientOptions { ErrorOnUntrusted = true, ConfirmNewKey = (_, _) => asked = true };
        using var client = SafeTpTestKit.Client(new MemoryTrustStore(), options);
        using var server = SafeTpTestKit.Server();
        var e = Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client, server));
        Assert.Equal("ServerKeyUntrusted", e.ErrorId);
        Assert.False(asked);
    }

    [Fact]
    public void First_use_asks_the_user_with_the_brand_and_records_the_key_once_the_server_proved_it()
    {
        var store = new MemoryTrustStore();
        string? shown = null;
        var options = new FtpClientOptions { ConfirmNewKey = (host, description) => { shown = host + "|" + description; return true; } };
        using var client = SafeTpTestKit.Client(store, options);
        using var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);

        Assert.NotNull(shown);
        Assert.Contains("ftp.example.com", shown);
        Assert.Contains("Example Corp FTP", shown);
        Assert.Contains(SafeTpTestKit.ServerKey.Fingerprint, shown);
        // Recorded under the name typed and under the address reached (s.5.7: a DNS spoof then meets the key).
        var key = Assert.Single(store.Find("ftp.example.com", 21, "X-SafeTP1"));
        Assert.Single(store.Find("192.0.2.10", 21, "X-SafeTP1"));
        Assert.Equal((21, "X-SafeTP1", "FirstUse", "Example Corp FTP"), (key.Port, key.KeyType, key.Source, key.Brand));
        Assert.Equal(SafeTpTestKit.ServerKey.PublicKeyEncoding, key.PublicKey);
        Assert.Equal("FirstUse", client.Details.TrustSource);
    }

    [Fact]
    public void A_trusted_key_is_used_without_asking()
    {
        var store = new MemoryTrustStore();
        store.Add(TrustedKeyFor("ftp.example.com", SafeTpTestKit.ServerKey));
        var options = new FtpClientOptions { ConfirmNewKey = (_, _) => throw new InvalidOperationException("must not ask") };
        using var client = SafeTpTestKit.Client(store, options);
        using var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);
        Assert.Equal("TrustStore", client.Details.TrustSource);
        Assert.Single(store.GetAll());
    }

    [Fact]
    public void A_changed_key_is_refused_showing_both_fingerprints_even_with_AcceptNewKey()
    {
        var store = new MemoryTrustStore();
        store.Add(TrustedKeyFor("ftp.example.com", SafeTpTestKit.ServerKey));
        using var client = SafeTpTestKit.Client(store, new FtpClientOptions { AcceptNewKey = true });
        using var server = SafeTpTestKit.Server(SafeTpTestKit.OtherServerKey);
        var e = Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client, server));
        Assert.Equal(FtpErrorKind.Trust, e.Kind);
        Assert.Equal("ServerKeyChanged", e.ErrorId);
        Assert.Contains(SafeTpTestKit.ServerKey.Fingerprint, e.Message);
        Assert.Contains(SafeTpTestKit.OtherServerKey.Fingerprint, e.Message);
        Assert.Contains("Mallory's Server", e.Message);
    }

    [Fact]
    public void A_known_key_at_a_new_address_is_replicated_silently_for_multihomed_servers()
    {
        var store = new MemoryTrustStore();
        store.Add(TrustedKeyFor("ftp1.example.com", SafeTpTestKit.ServerKey));
        var options = new FtpClientOptions { ConfirmNewKey = (_, _) => throw new InvalidOperationException("must not ask") };
        using var client = SafeTpTestKit.Client(store, options, host: "ftp2.example.com");
        using var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);
        var added = Assert.Single(store.Find("ftp2.example.com", 21, "X-SafeTP1"));
        Assert.Equal("Replicated", added.Source);
        Assert.Equal(SafeTpTestKit.ServerKey.Fingerprint, added.Fingerprint);
    }

    [Fact]
    public void The_server_refuses_an_ElGamal_key_below_its_minimum()
    {
        var shortKey = SafeTpKeys.GenerateClientKey(768);
        // The client sees the minimum in the 334 and stops before sending its key...
        using (var client = SafeTpTestKit.Client(key: shortKey))
        using (var server = SafeTpTestKit.Server(policy: new SafeTpServerPolicy { MinimumElGamalBits = 1024 }))
        {
            var e = Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client, server));
            Assert.Equal(("ElGamalKeyTooShort", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
        }
        // ...and a client that sends one anyway is refused by the server.
        using (var server = SafeTpTestKit.Server(policy: new SafeTpServerPolicy { MinimumElGamalBits = 1024 }))
        {
            server.GetNextOutgoingAdat();
            var m2 = SafeTpMessages.EncodeClientKey(shortKey, new byte[20]);
            var e = Assert.Throws<FtpException>(() => server.IncomingAdat(m2));
            Assert.Equal(("ElGamalKeyTooShort", FtpErrorKind.Policy), (e.ErrorId, e.Kind));
            Assert.Contains("1024", e.Message);
        }
    }

    [Fact]
    public void The_client_refuses_a_server_that_signed_another_address()
    {
        using var client = SafeTpTestKit.Client(peer: IPAddress.Parse("198.51.100.7"));
        using var server = SafeTpTestKit.Server();
        var e = Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client, server));
        Assert.Equal("ServerAddressMismatch", e.ErrorId);
    }

    [Fact]
    public void A_key_not_held_by_the_server_cannot_complete_the_exchange()
    {
        // An attacker presents the real server's branded key (M1) but signs M3 with his own key.
        using var client = SafeTpTestKit.Client();
        using var realServer = SafeTpTestKit.Server();
        using var attacker = SafeTpTestKit.Server(SafeTpTestKit.OtherServerKey);
        client.IncomingAdat(realServer.GetNextOutgoingAdat());
        attacker.GetNextOutgoingAdat();
        attacker.IncomingAdat(client.GetNextOutgoingAdat());
        var e = Assert.Throws<FtpException>(() => client.IncomingAdat(attacker.GetNextOutgoingAdat()));
        Assert.Equal(("ServerSignatureInvalid", FtpErrorKind.Security), (e.ErrorId, e.Kind));
    }

    [Fact]
    public void A_brand_not_signed_by_the_key_is_refused()
    {
        using var server = SafeTpTestKit.Server();
        var m1 = server.GetNextOutgoingAdat();
        var text = Encoding.UTF8.GetBytes("Example Corp FTP");
        int at = IndexOf(m1, text);
        m1[at] = (byte)'X'; // "Xxample Corp FTP": a rebranded key
        using var client = SafeTpTestKit.Client();
        var e = Assert.Throws<FtpException>(() => client.IncomingAdat(m1));
        Assert.Equal("SafeTpBrandInvalid", e.ErrorId);
    }

    [Fact]
    public void Keys_and_brand_survive_a_save_and_load_and_files_are_owner_only()
    {
        var dir = Directory.CreateTempSubdirectory("safetp-keys");
        try
        {
            string serverPath = Path.Combine(dir.FullName, "server.key"), clientPath = Path.Combine(dir.FullName, "client.key");
            SafeTpKeys.Save(SafeTpTestKit.ServerKey, serverPath);
            SafeTpKeys.Save(SafeTpTestKit.ClientKey, clientPath);
            var server = SafeTpKeys.LoadServerKey(serverPath);
            var client = SafeTpKeys.LoadClientKey(clientPath);
            Assert.Equal(SafeTpTestKit.ServerKey.Fingerprint, server.Fingerprint);
            Assert.Equal("Example Corp FTP", server.Brand);
            Assert.Equal(2048, server.Bits); // the default size of a new server key
            Assert.Equal(1024, client.Bits);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(serverPath));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(clientPath));
            }
            Assert.StartsWith("-----BEGIN X-SAFETP1 SERVER KEY-----", File.ReadAllText(serverPath));

            // A loaded pair still completes an exchange.
            using var c = SafeTpTestKit.Client(key: client);
            using var s = SafeTpTestKit.Server(server);
            SafeTpTestKit.Exchange(c, s);
            Assert.True(c.IsEstablished && s.IsEstablished);

            var exported = SafeTpKeys.ExportServerPublicKey(server);
            Assert.DoesNotContain("PRIVATE", exported);
            var info = SafeTpKeys.ParseServerPublicKey(exported);
            Assert.Equal((server.Fingerprint, "Example Corp FTP", 2048), (info.Fingerprint, info.Brand, info.Bits));

            var profileKey = Path.Combine(dir.FullName, "profile", "client.key");
            var made = SafeTpKeys.LoadOrCreateClientKey(profileKey);
            Assert.True(File.Exists(profileKey));
            Assert.Equal(2048, made.Bits);
        }
        finally { dir.Delete(true); }
    }

    internal static TrustedKey TrustedKeyFor(string host, SafeTpServerKey key) => new()
    {
        Host = host, Port = 21, KeyType = "X-SafeTP1", PublicKey = key.PublicKeyEncoding, Fingerprint = key.Fingerprint,
        Brand = key.Brand, Source = "OutOfBand", AddedUtc = DateTime.UtcNow,
    };

    internal static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}

public class ServerFactoryTests
{
    [Fact]
    public void The_server_factory_makes_a_fresh_server_half_per_connection_bound_to_its_address()
    {
        var factory = SafeTpMechanism.ServerFactory(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 768 });
        using var server = factory(SafeTpTestKit.ServerAddress);
        using var client = SafeTpTestKit.Client();
        SafeTpTestKit.Exchange(client, server);
        Assert.True(server.IsEstablished);
        using var other = factory(System.Net.IPAddress.Parse("192.0.2.99"));
        using var client2 = SafeTpTestKit.Client();
        Assert.Equal("ServerAddressMismatch", Assert.Throws<FtpException>(() => SafeTpTestKit.Exchange(client2, other)).ErrorId);
        Assert.Throws<FtpException>(() => SafeTpMechanism.ServerFactory(SafeTpTestKit.ServerKey, new SafeTpServerPolicy { MinimumElGamalBits = 1000 }));
    }
}
