using SecureFtp.Security;
using SecureFtp.Security.Kea;

namespace SecureFtp.Tests.Kea;

/// <summary>A site CA with a server and two users, and helpers that run the RFC 2773 exchange between the
/// two real halves through the IRfc2228Security interface, as the RFC 2228 framework will.</summary>
internal sealed class KeaTestKit
{
    public KeaCertificateAuthority Ca { get; } = KeaCertificateAuthority.Create("CN=SecureFtp Test CA, O=SecureFtp");
    public KeaCredential Server { get; }
    public KeaCredential Alice { get; }
    public KeaCredential Bob { get; }

    public KeaTestKit()
    {
        Server = Ca.Issue("CN=ftp.example.test");
        Alice = Ca.Issue("CN=alice");
        Bob = Ca.Issue("CN=bob");
    }

    public KeaClientOptions ClientOptions(KeaCredential? credential = null)
    {
        var options = new KeaClientOptions(credential ?? Alice, "ftp.example.test", 21);
        options.TrustedIssuers.Add(Ca.Issuer);
        return options;
    }

    public KeaServerOptions ServerOptions()
    {
        var options = new KeaServerOptions(Server);
        options.TrustedIssuers.Add(Ca.Issuer);
        options.Users.MapSubject("CN=alice", "alice", "backup");
        return options;
    }

    /// <summary>Runs Figure 1. <paramref name="tamper"/> may alter each ADAT in flight: (step, data) -> data,
    /// step 1 = 334 Certb||Rb, 2 = client ADAT, 3 = 235 IV.</summary>
    public static void Exchange(IRfc2228Security client, IRfc2228Security server, Func<int, byte[], byte[]>? tamper = null)
    {
        tamper ??= (_, data) => data;
        // AUTH KEA-SKIPJACK accepted: 334 ADAT=Base64(Certb || Rb).
        if (!server.HasOutgoingAdat) throw new InvalidOperationException("server has no 334 ADAT");
        if (!client.ExpectingIncomingAdat) throw new InvalidOperationException("client does not expect ADAT");
        client.IncomingAdat(tamper(1, server.GetNextOutgoingAdat()));
        if (!client.HasOutgoingAdat) throw new InvalidOperationException("client has no ADAT to send");
        if (!server.ExpectingIncomingAdat) throw new InvalidOperationException("server does not expect ADAT");
        server.IncomingAdat(tamper(2, client.GetNextOutgoingAdat()));
        if (!server.IsEstablished || !server.HasOutgoingAdat) throw new InvalidOperationException("server should answer 235 with its IV");
        client.IncomingAdat(tamper(3, server.GetNextOutgoingAdat()));
        if (!client.IsEstablished) throw new InvalidOperationException("client not established");
    }

    public (KeaClientSecurity Client, KeaServerSecurity Server) Established()
    {
        var client = new KeaClientSecurity(ClientOptions());
        var server = new KeaServerSecurity(ServerOptions());
        Exchange(client, server);
        return (client, server);
    }
}
