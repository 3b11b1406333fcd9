using System.Text;
using Org.BouncyCastle.Math;
using SecureFtp.Security;
using SecureFtp.Security.SafeTp;
using Xunit;

namespace SecureFtp.Tests.SafeTp;

/// <summary>X-SafeTP1 against a peer that attacks the cryptography rather than the protocol: a padding oracle on
/// the CBC blocks, an ElGamal value outside the client's group (a small-subgroup probe of the client's private key),
/// a session pushed past what 3DES's 64-bit block allows under one key.</summary>
public class HostilePeerTests
{
    private static ArraySegment<byte> Bytes(string s) => new(Encoding.UTF8.GetBytes(s));

    private static (IRfc2228Security Client, IRfc2228Security Server) Session(long? keyBlockLimit = null, long? serverKeyBlockLimit = null)
    {
        var client = SafeTpTestKit.Client();
        var server = SafeTpTestKit.Server();
        if (keyBlockLimit != null) ((SafeTpSecurity)client).KeyBlockLimit = keyBlockLimit.Value;
        if ((serverKeyBlockLimit ?? keyBlockLimit) is long limit) ((SafeTpSecurity)server).KeyBlockLimit = limit;
        SafeTpTestKit.Exchange(client, server);
        return (client, server);
    }

    private static FtpException Rejected(Action act)
    {
        var e = Assert.Throws<FtpException>(act);
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        return e;
    }

    // ---- padding oracle ----

    /// <summary>A block whose padding is exactly one byte (header 8 + "abc" + MAC 20 = 31 bytes): in CBC, flipping a
    /// bit of the second-to-last ciphertext block flips the same bit of the last plaintext block. Flipping the last
    /// byte turns the padding byte 0x01 into 0x00 (bad padding, the MAC untouched); flipping the first byte changes a
    /// MAC byte and leaves the padding valid (bad MAC). An oracle attacker needs to tell these apart.</summary>
    private static byte[] Tamper(byte[] token, bool padding)
    {
        var altered = (byte[])token.Clone();
        int previousBlock = altered.Length - 16;
        altered[previousBlock + (padding ? 7 : 0)] ^= 0x01;
        return altered;
    }

    [Fact]
    public void Bad_padding_and_bad_MAC_give_the_same_error_and_both_end_the_session()
    {
        var results = new List<FtpException>();
        foreach (bool padding in new[] { true, false })
        {
            var (client, server) = Session();
            var token = client.Encode(Bytes("abc"));
            Assert.Equal(8 + 32, token.Length); // IV + 4 cipher blocks: the padding is the one byte 0x01
            results.Add(Rejected(() => server.Decode(new(Tamper(token, padding)))));

            // The session is over: the genuine block is refused now, and so is everything after it.
            Assert.Equal("SafeTpSessionEnded", Rejected(() => server.Decode(new(token))).ErrorId);
            Assert.Equal("SafeTpSessionEnded", Rejected(() => server.Decode(new(client.Encode(Bytes("NOOP"))))).ErrorId);
            Assert.Equal("SafeTpSessionEnded", Rejected(() => server.CreateDataTransform(DataProtectionLevel.Private, sending: false)).ErrorId);
            // The server can still send the 535 that tells the client why it closes (X-SafeTP1.md s.6.2).
            Assert.Equal("535 Failed security check", Encoding.UTF8.GetString(client.Decode(new(server.Encode(Bytes("535 Failed security check"))))));
        }
        Assert.Equal("ProtectedBlockModified", results[0].ErrorId);
        Assert.Equal(results[0].ErrorId, results[1].ErrorId);
        Assert.Equal(results[0].Message, results[1].Message); // the same words: nothing says which check failed
    }

    [Fact]
    public void A_tampered_download_block_gives_the_same_error_for_padding_and_MAC_and_ends_the_session_both_ways()
    {
        var messages = new List<string>();
        foreach (bool padding in new[] { true, false })
        {
            var (client, server) = Session();
            var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
            var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
            var first = send.Encode(Bytes("1234567")); // header 12 + 7 + MAC 20 = 39: one padding byte
            Assert.Equal(8 + 40, first.Length);
            var e = Rejected(() => receive.Decode(new(Tamper(first, padding))));
            Assert.Equal("ProtectedBlockModified", e.ErrorId);
            messages.Add(e.Message);

            // Ended in both directions: no further data, no command, no reply under these keys.
            Assert.Equal("SafeTpSessionEnded", Rejected(() => receive.Decode(new(send.Encode(Bytes("more"))))).ErrorId);
            Assert.Equal("SafeTpSessionEnded", Rejected(() => client.Encode(Bytes("RETR next"))).ErrorId);
            Assert.Equal("SafeTpSessionEnded", Rejected(() => client.Decode(new(server.Encode(Bytes("226 Done"))))).ErrorId);
            Assert.Equal("SafeTpSessionEnded", Rejected(() => client.CreateDataTransform(DataProtectionLevel.Private, sending: true)).ErrorId);
        }
        Assert.Equal(messages[0], messages[1]);
    }

    [Fact]
    public void A_tampered_upload_block_ends_the_servers_session_so_it_cannot_answer_226()
    {
        var (client, server) = Session();
        var send = client.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = server.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        Assert.Equal("ProtectedBlockModified", Rejected(() => receive.Decode(new(Tamper(send.Encode(Bytes("1234567")), padding: false)))).ErrorId);
        Assert.Equal("SafeTpSessionEnded", Rejected(() => server.Encode(Bytes("226 Transfer complete"))).ErrorId);
    }

    [Fact]
    public void A_replayed_data_block_also_ends_the_session()
    {
        var (client, server) = Session();
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        var b0 = send.Encode(Bytes("block 0"));
        receive.Decode(new(b0));
        Assert.Equal("DataBlockReplayed", Rejected(() => receive.Decode(new(b0))).ErrorId);
        Assert.Equal("SafeTpSessionEnded", Rejected(() => receive.Decode(new(send.Encode(Bytes("block 1"))))).ErrorId);
    }

    [Fact]
    public void Untampered_blocks_of_every_padding_length_open()
    {
        // The constant-time check must accept every honest block: payloads giving each padding length 1..8.
        var (client, server) = Session();
        for (int n = 0; n < 24; n++)
        {
            var text = new string('x', n);
            Assert.Equal(text, Encoding.UTF8.GetString(server.Decode(new(client.Encode(Bytes(text))))));
        }
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        for (int n = 1; n < 24; n++)
            Assert.Equal(n, receive.Decode(new(send.Encode(new ArraySegment<byte>(new byte[n])))).Length);
    }

    // ---- the server's ElGamal value ----

    /// <summary>A hostile server that holds its own DSA key (so its signature verifies) and answers the client's M2
    /// with an M3 of its choosing.</summary>
    private static byte[] HostileMasterKeyMessage(byte[] m1, byte[] m2, BigInteger a, BigInteger b)
    {
        var clientChallenge = m2[^SafeTpMessages.ChallengeLength..];
        var unsigned = new SafeTpWriter().U8(SafeTpMessages.MasterKeyType).Raw(new byte[SafeTpMessages.ChallengeLength]).Raw(clientChallenge)
            .Raw(SafeTpMessages.EncodeAddress(SafeTpTestKit.ServerAddress)).Mpi(a).Mpi(b).ToArray();
        var (r, s) = SafeTpDsa.Sign(SafeTpTestKit.ServerKey.PrivateKey, SafeTpMessages.KeyExchangeSignedData(m1, m2, unsigned));
        return new SafeTpWriter().Raw(unsigned).Mpi(r).Mpi(s).ToArray();
    }

    private static (IRfc2228Security Client, byte[] M1, byte[] M2) ClientAwaitingMasterKey()
    {
        var client = SafeTpTestKit.Client();
        var m1 = SafeTpMessages.EncodeServerKey(SafeTpTestKit.ServerKey, 1024);
        client.IncomingAdat(m1);
        return (client, m1, client.GetNextOutgoingAdat());
    }

    public static TheoryData<string> OutsideTheSubgroup => new() { "p-1", "non-residue", "1", "0", "p", "p+1" };

    [Theory]
    [MemberData(nameof(OutsideTheSubgroup))]
    public void A_server_ElGamal_value_outside_the_order_q_subgroup_is_refused(string which)
    {
        var p = SafeTpTestKit.ClientKey.P;
        var q = p.Subtract(BigInteger.One).ShiftRight(1);
        BigInteger a = which switch
        {
            "p-1" => p.Subtract(BigInteger.One),   // order 2: a^x reveals x mod 2
            "non-residue" => FirstNonResidue(p, q),
            "1" => BigInteger.One,
            "0" => BigInteger.Zero,
            "p" => p,
            _ => p.Add(BigInteger.One),
        };
        var (client, m1, m2) = ClientAwaitingMasterKey();
        var e = Rejected(() => client.IncomingAdat(HostileMasterKeyMessage(m1, m2, a, BigInteger.Two)));
        Assert.Equal("ElGamalValueInvalid", e.ErrorId);
        Assert.False(client.IsEstablished);
        Assert.False(client.HasOutgoingAdat); // no M4: nothing computed with the private key goes back
    }

    [Fact]
    public void The_hostile_message_builder_is_right_an_honest_value_from_it_is_accepted()
    {
        // The same crafted M3 with a = g^k in the subgroup and b = m * y^k completes the exchange, so the refusals
        // above are the subgroup check and not a broken test message.
        var key = SafeTpTestKit.ClientKey;
        var k = new BigInteger("123456789123456789123456789");
        var m = new BigInteger(1, Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
        var (client, m1, m2) = ClientAwaitingMasterKey();
        client.IncomingAdat(HostileMasterKeyMessage(m1, m2, key.G.ModPow(k, key.P), m.Multiply(key.Y.ModPow(k, key.P)).Mod(key.P)));
        Assert.True(client.HasOutgoingAdat);
    }

    private static BigInteger FirstNonResidue(BigInteger p, BigInteger q)
    {
        for (var v = BigInteger.Three; ; v = v.Add(BigInteger.One))
            if (!v.ModPow(q, p).Equals(BigInteger.One)) return v;
    }

    [Fact]
    public void A_client_ElGamal_value_outside_the_subgroup_is_refused_by_the_server()
    {
        var server = SafeTpTestKit.Server();
        server.GetNextOutgoingAdat();
        var key = SafeTpTestKit.ClientKey;
        var m2 = new SafeTpWriter().U8(SafeTpMessages.ClientKeyType).Mpi(key.P).Mpi(key.G).Mpi(key.P.Subtract(BigInteger.One))
            .Raw(new byte[SafeTpMessages.ChallengeLength]).ToArray();
        Assert.Equal("ElGamalValueInvalid", Rejected(() => server.IncomingAdat(m2)).ErrorId);
    }

    // ---- server key size ----

    [Fact]
    public void New_server_keys_are_DSA_2048_and_1024_bit_keys_still_load_and_work()
    {
        Assert.Equal(2048, SafeTpTestKit.ServerKey.Bits);
        var old = SafeTpTestKit.OtherServerKey;
        Assert.Equal(1024, old.Bits);
        string path = Path.Combine(Path.GetTempPath(), "safetp-1024-" + Guid.NewGuid().ToString("N") + ".key");
        try
        {
            SafeTpKeys.Save(old, path);
            var loaded = SafeTpKeys.LoadServerKey(path);
            Assert.Equal(old.Fingerprint, loaded.Fingerprint);
            var client = SafeTpTestKit.Client();
            var server = SafeTpTestKit.Server(loaded);
            SafeTpTestKit.Exchange(client, server);
            Assert.True(client.IsEstablished && server.IsEstablished);
        }
        finally { File.Delete(path); }
    }

    // ---- key usage limit ----

    [Fact]
    public void Data_past_the_key_usage_limit_is_refused_cleanly_and_control_lines_still_go_through()
    {
        // 4096 cipher blocks (32 KiB) per key; data stops 2048 blocks earlier, leaving room for the replies.
        var (client, server) = Session(keyBlockLimit: 4096);
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        var chunk = new ArraySegment<byte>(new byte[1000]);
        long sent = 0;
        FtpException? refusal = null;
        for (int i = 0; i < 100 && refusal == null; i++)
        {
            try
            {
                var token = send.Encode(chunk);
                receive.Decode(new(token));
                sent += chunk.Count;
            }
            catch (FtpException e) { refusal = e; }
        }
        Assert.NotNull(refusal);
        Assert.Equal("KeyUsageLimitReached", refusal!.ErrorId);
        Assert.Contains("reconnect", refusal.Message);
        Assert.InRange(sent, 14_000, 2048 * 8);
        // The reply saying why, and the QUIT, still go under the key.
        Assert.Equal("426 Key usage limit", Encoding.UTF8.GetString(client.Decode(new(server.Encode(Bytes("426 Key usage limit"))))));
        Assert.Equal("QUIT", Encoding.UTF8.GetString(server.Decode(new(client.Encode(Bytes("QUIT"))))));
    }

    [Fact]
    public void A_peer_that_sends_past_the_limit_is_refused_by_the_receiver()
    {
        // The server ignores the limit (a much higher one); the client counts what it decrypts and stops.
        var (client, server) = Session(keyBlockLimit: 4096, serverKeyBlockLimit: 1L << 28);
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        var chunk = new ArraySegment<byte>(new byte[1000]);
        var e = Assert.Throws<FtpException>(() => { for (int i = 0; i < 100; i++) receive.Decode(new(send.Encode(chunk))); });
        Assert.Equal("KeyUsageLimitReached", e.ErrorId);
    }

    [Fact]
    public void The_default_limit_is_two_to_the_28_blocks()
        => Assert.Equal(1L << 28, SafeTpDirectionKeys.DefaultBlockLimit);
}
