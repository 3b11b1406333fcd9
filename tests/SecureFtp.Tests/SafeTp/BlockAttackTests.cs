using System.Text;
using SecureFtp.Security;
using SecureFtp.Security.SafeTp;
using Xunit;

namespace SecureFtp.Tests.SafeTp;

/// <summary>Each defence of seed 000 s.5.6 mounted as an attack on the blocks an eavesdropper can see and alter.</summary>
public class BlockAttackTests
{
    private static ArraySegment<byte> Bytes(string s) => new(Encoding.UTF8.GetBytes(s));

    private static (IRfc2228Security Client, IRfc2228Security Server) Session()
    {
        var client = SafeTpTestKit.Client();
        var server = SafeTpTestKit.Server();
        SafeTpTestKit.Exchange(client, server);
        return (client, server);
    }

    private static void AssertRejected(Action act, params string[] errorIds)
    {
        var e = Assert.Throws<FtpException>(act);
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Contains(e.ErrorId, errorIds);
    }

    [Fact]
    public void Modification_a_flipped_bit_anywhere_in_a_control_block_is_detected()
    {
        var (client, server) = Session();
        var token = client.Encode(Bytes("RETR payroll.xls"));
        for (int bit = 0; bit < token.Length * 8; bit += 7)
        {
            var altered = (byte[])token.Clone();
            altered[bit / 8] ^= (byte)(1 << (bit % 8));
            // A fresh receiver each time: the first failed block ends what a session accepts (no second guess).
            var (sender, receiver) = Session();
            var fresh = sender.Encode(Bytes("RETR payroll.xls"));
            fresh[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertRejected(() => receiver.Decode(new(fresh)), "ProtectedBlockModified");
            AssertRejected(() => server.Decode(new(altered)), "ProtectedBlockModified", "SafeTpSessionEnded");
        }
        // After a failed block the untouched one is refused too: the session has ended.
        AssertRejected(() => server.Decode(new(token)), "SafeTpSessionEnded");
    }

    [Fact]
    public void Packet_replay_a_repeated_control_block_is_refused()
    {
        var (client, server) = Session();
        var dele = client.Encode(Bytes("DELE report.txt"));
        server.Decode(new(dele));
        AssertRejected(() => server.Decode(new(dele)), "ControlBlockReplayed");
    }

    [Fact]
    public void Packet_replay_reordered_or_deleted_control_blocks_are_refused()
    {
        var (client, server) = Session();
        var first = client.Encode(Bytes("CWD /a"));
        var second = client.Encode(Bytes("DELE x"));
        AssertRejected(() => server.Decode(new(second)), "ControlBlockReplayed");
        server.Decode(new(first));
        server.Decode(new(second));
    }

    [Fact]
    public void Echo_replay_a_block_reflected_back_to_its_sender_is_refused()
    {
        var (client, server) = Session();
        var command = client.Encode(Bytes("NOOP"));
        AssertRejected(() => client.Decode(new(command)), "ProtectedBlockModified");
        var reply = server.Encode(Bytes("200 OK"));
        AssertRejected(() => server.Decode(new(reply)), "ProtectedBlockModified");

        // The second layer (s.5.6): even under one key the flags say who sent the block.
        AssertRejected(() => SafeTpSecurity.CheckFlags(SafeTpFlags.None, SafeTpFlags.FromServer, "control"), "EchoedBlock");
        AssertRejected(() => SafeTpSecurity.CheckFlags(SafeTpFlags.FromServer | SafeTpFlags.Data, SafeTpFlags.FromServer, "control"), "WrongBlockKind");
    }

    [Fact]
    public void Session_replay_blocks_recorded_in_an_earlier_session_are_refused()
    {
        var (oldClient, oldServer) = Session();
        var oldCommand = oldClient.Encode(Bytes("DELE *"));
        var oldData = oldServer.CreateDataTransform(DataProtectionLevel.Private, sending: true).Encode(Bytes("old file"));
        var (newClient, newServer) = Session();
        AssertRejected(() => newServer.Decode(new(oldCommand)), "ProtectedBlockModified");
        AssertRejected(() => newClient.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new(oldData)), "ProtectedBlockModified");
    }

    [Fact]
    public void Session_replay_an_old_key_exchange_replayed_to_the_client_fails()
    {
        // The attacker recorded a whole exchange and plays the server's side to a new client.
        using var client1 = SafeTpTestKit.Client();
        using var server1 = SafeTpTestKit.Server();
        var recorded = SafeTpTestKit.Exchange(client1, server1);
        using var client2 = SafeTpTestKit.Client();
        client2.IncomingAdat(recorded[0]);
        client2.GetNextOutgoingAdat(); // a fresh challenge
        AssertRejected(() => client2.IncomingAdat(recorded[2]), "ServerSignatureInvalid", "ChallengeMismatch");
    }

    [Fact]
    public void Session_replay_an_old_key_exchange_replayed_to_the_server_fails()
    {
        // ...and the client's side to a new server: the server's fresh challenge is not in the old answer.
        using var client1 = SafeTpTestKit.Client();
        using var server1 = SafeTpTestKit.Server();
        var recorded = SafeTpTestKit.Exchange(client1, server1);
        using var server2 = SafeTpTestKit.Server();
        server2.GetNextOutgoingAdat();
        server2.IncomingAdat(recorded[1]);
        server2.GetNextOutgoingAdat();
        AssertRejected(() => server2.IncomingAdat(recorded[3]), "ProtectedBlockModified", "ChallengeMismatch");
        Assert.False(server2.IsEstablished);
    }

    [Fact]
    public void Modification_of_the_masters_key_message_in_transit_is_detected()
    {
        using var client = SafeTpTestKit.Client();
        using var server = SafeTpTestKit.Server();
        AssertRejected(() => SafeTpTestKit.Exchange(client, server, (i, m) => { if (i == 2) m[30] ^= 1; return m; }), "ServerSignatureInvalid", "SafeTpMalformed");
    }

    [Fact]
    public void Data_blocks_carry_a_file_and_block_number_and_end_with_an_empty_block()
    {
        var (client, server) = Session();
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        var tokens = new[] { "alpha", "beta", "" }.Select(s => send.Encode(Bytes(s))).ToList();
        Assert.Equal("alpha", Encoding.UTF8.GetString(receive.Decode(new(tokens[0]))));
        Assert.Equal("beta", Encoding.UTF8.GetString(receive.Decode(new(tokens[1]))));
        Assert.Empty(receive.Decode(new(tokens[2])));
        AssertRejected(() => receive.Decode(new(tokens[1])), "DataAfterEndOfFile");
    }

    [Fact]
    public void Packet_replay_a_repeated_or_dropped_data_block_is_refused()
    {
        var (client, server) = Session();
        var send = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var b0 = send.Encode(Bytes("block 0"));
        var b1 = send.Encode(Bytes("block 1"));
        var b2 = send.Encode(Bytes("block 2"));
        var receive = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        receive.Decode(new(b0));
        AssertRejected(() => receive.Decode(new(b0)), "DataBlockReplayed");
        // A failed data block ends the session: even the genuine next block is refused now.
        AssertRejected(() => receive.Decode(new(b1)), "SafeTpSessionEnded");

        var (client2, server2) = Session();
        var send2 = server2.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var c0 = send2.Encode(Bytes("block 0"));
        send2.Encode(Bytes("block 1"));
        var c2 = send2.Encode(Bytes("block 2"));
        var receive2 = client2.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        receive2.Decode(new(c0));
        AssertRejected(() => receive2.Decode(new(c2)), "DataBlockReplayed"); // block 1 dropped on the way
    }

    [Fact]
    public void File_replay_an_earlier_transfer_played_again_on_a_new_data_connection_is_refused()
    {
        var (client, server) = Session();
        var firstFile = server.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var recorded = new[] { firstFile.Encode(Bytes("version 1")), firstFile.Encode(new ArraySegment<byte>()) };
        var receive1 = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        foreach (var t in recorded) receive1.Decode(new(t));

        // Next RETR: the attacker answers the data connection with the recorded first file.
        var receive2 = client.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        AssertRejected(() => receive2.Decode(new(recorded[0])), "FileReplayed");

        // The session has ended with it: no further transfer under these keys.
        AssertRejected(() => client.CreateDataTransform(DataProtectionLevel.Private, sending: false), "SafeTpSessionEnded");

        // Without the replay, the real second file is accepted.
        var (client2, server2) = Session();
        var first2 = server2.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var r1 = client2.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        foreach (var t in new[] { first2.Encode(Bytes("version 1")), first2.Encode(new ArraySegment<byte>()) }) r1.Decode(new(t));
        var secondFile = server2.CreateDataTransform(DataProtectionLevel.Private, sending: true);
        var receive3 = client2.CreateDataTransform(DataProtectionLevel.Private, sending: false);
        Assert.Equal("version 2", Encoding.UTF8.GetString(receive3.Decode(new(secondFile.Encode(Bytes("version 2"))))));
    }

    [Fact]
    public void Echo_replay_a_data_block_sent_back_to_its_sender_is_refused()
    {
        var (client, server) = Session();
        var upload = client.CreateDataTransform(DataProtectionLevel.Private, sending: true).Encode(Bytes("upload"));
        AssertRejected(() => client.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new(upload)), "ProtectedBlockModified");
        Assert.Equal("upload", Encoding.UTF8.GetString(server.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new(upload))));
    }

    [Fact]
    public void A_control_block_cannot_be_passed_off_as_data()
    {
        var (client, server) = Session();
        // Same direction, same keys: only the flags tell a control block from a data block.
        var command = client.Encode(Bytes("STOR x"));
        AssertRejected(() => server.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new(command)), "WrongBlockKind", "SafeTpMalformed", "DataBlockReplayed");
    }

    [Fact]
    public void Only_PROT_C_and_P_are_offered()
    {
        var (client, _) = Session();
        Assert.True(client.Supports(DataProtectionLevel.Private));
        Assert.False(client.Supports(DataProtectionLevel.Safe));
        Assert.False(client.Supports(DataProtectionLevel.Confidential));
    }
}
