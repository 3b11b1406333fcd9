using System.Text;
using SecureFtp;
using SecureFtp.Security.Kea;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Kea;

/// <summary>RFC 2773 Figure 1 between the real client and server halves.</summary>
public class KeaExchangeTests
{
    private static readonly KeaTestKit Kit = new();

    [Fact]
    public void FullExchangeEstablishesBothSidesWithTheSameKeys()
    {
        var (client, server) = Kit.Established();
        Assert.Equal(client.Tek, server.Tek);
        Assert.Equal(client.Mek, server.Mek);
        Assert.NotEqual(client.Tek, client.Mek);
        Assert.Equal("KEA-SKIPJACK", client.MechanismName);
        Assert.Equal("Chain", client.Details.TrustSource);
        Assert.Equal("CN=ftp.example.test", client.Details.PeerName);
        Assert.Equal(Kit.Server.Fingerprint, client.Details.PeerFingerprint);
        Assert.Equal("CN=alice", server.Details.PeerName);
        Assert.False(client.HasOutgoingAdat || client.ExpectingIncomingAdat);
        Assert.False(server.HasOutgoingAdat || server.ExpectingIncomingAdat);
    }

    [Fact]
    public void AdatLayoutIsFigure1()
    {
        byte[]? first = null, second = null, third = null;
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        KeaTestKit.Exchange(client, server, (step, data) =>
        {
            if (step == 1) first = data; else if (step == 2) second = data; else third = data;
            return data;
        });
        var certb = Kit.Server.GetCertificateDer();
        Assert.Equal(certb.Length + 128, first!.Length);
        Assert.Equal(certb, first.Take(certb.Length).ToArray());
        var certa = Kit.Alice.GetCertificateDer();
        // Certa || Ra (128) || WMEK (12) || IV (24) || Encrypt(type 0 || length 0 || pad 3 || ICV 8) = 16.
        Assert.Equal(certa.Length + 128 + 12 + 24 + 16, second!.Length);
        Assert.Equal(certa, second.Take(certa.Length).ToArray());
        Assert.All(second.Skip(certa.Length + 128 + 12).Take(16), b => Assert.Equal(0, b));
        Assert.Equal(24, third!.Length);
        Assert.All(third.Take(16), b => Assert.Equal(0, b));
    }

    [Fact]
    public void EachSideTrustsTheCaOfItsOwnCredentialByDefault()
    {
        var client = new KeaClientSecurity(new KeaClientOptions(Kit.Alice, "ftp.example.test", 21));
        var serverOptions = new KeaServerOptions(Kit.Server);
        serverOptions.Users.MapSubject("CN=alice", "alice");
        var server = new KeaServerSecurity(serverOptions);
        KeaTestKit.Exchange(client, server);
        Assert.Equal("Chain", client.Details.TrustSource);
        Assert.Equal("Chain", server.Details.TrustSource);
        Assert.True(server.IsUserAllowed("alice"));
    }

    [Fact]
    public void UserMappingDecidesWhichUserNamesTheClientMayUse()
    {
        var (_, server) = Kit.Established();
        Assert.True(server.IsUserAllowed("alice"));
        Assert.True(server.IsUserAllowed("backup"));
        Assert.False(server.IsUserAllowed("root"));
    }

    [Fact]
    public void ClientPinnedByFingerprintIsAcceptedWithoutTheCa()
    {
        var other = KeaCertificateAuthority.Create("Elsewhere CA");
        var dave = other.Issue("dave");
        var serverOptions = Kit.ServerOptions();
        serverOptions.Users.MapFingerprint(dave.Fingerprint, "dave");
        var client = new KeaClientSecurity(Kit.ClientOptions(dave));
        var server = new KeaServerSecurity(serverOptions);
        KeaTestKit.Exchange(client, server);
        Assert.Equal("Pinned", server.Details.TrustSource);
        Assert.True(server.IsUserAllowed("dave"));
        Assert.False(server.IsUserAllowed("alice"));
    }

    [Fact]
    public void UnknownClientCertificateIsRefused()
    {
        var other = KeaCertificateAuthority.Create("Elsewhere CA");
        var client = new KeaClientSecurity(Kit.ClientOptions(other.Issue("eve")));
        var server = new KeaServerSecurity(Kit.ServerOptions());
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("KeaCertificateRejected", e.ErrorId);
        Assert.Contains("CN=eve", e.Message);
    }

    [Fact]
    public void WrongStaticKeyIsDetectedByTheServer()
    {
        // Someone on the path swaps Alice's certificate for Bob's: the server computes the TEK with Bob's
        // static key, which Alice does not hold, and the wrapped MEK does not unwrap.
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        var certa = Kit.Alice.GetCertificateDer();
        var certBob = Kit.Bob.GetCertificateDer();
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server, (step, data) =>
            step == 2 ? certBob.Concat(data.Skip(certa.Length)).ToArray() : data));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("KeaWrongKey", e.ErrorId);
        Assert.Contains("does not unwrap", e.Message);
        Assert.False(server.IsEstablished);
        // The failed exchange is over: no second ADAT is taken with the same ephemeral value.
        Assert.False(server.ExpectingIncomingAdat);
        Assert.Equal("KeaUnexpectedState", Assert.Throws<FtpException>(() => server.IncomingAdat(new byte[10])).ErrorId);
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("one")]
    [InlineData("p-1")]
    public void BadServerEphemeralIsRefusedByTheClient(string which)
    {
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server, (step, data) =>
        {
            if (step != 1) return data;
            var value = which switch
            {
                "zero" => new byte[128],
                "one" => KeaDomain.ToFixed(Org.BouncyCastle.Math.BigInteger.One),
                _ => KeaDomain.ToFixed(KeaDomain.Default.P.Subtract(Org.BouncyCastle.Math.BigInteger.One)),
            };
            return data.Take(data.Length - 128).Concat(value).ToArray();
        }));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("KeaBadPublicValue", e.ErrorId);
    }

    [Fact]
    public void BadClientEphemeralIsRefusedByTheServer()
    {
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        int certLength = Kit.Alice.GetCertificateDer().Length;
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server, (step, data) =>
        {
            if (step != 2) return data;
            var copy = (byte[])data.Clone();
            // Ra := 2, in range but not of order q.
            Array.Clear(copy, certLength, 128);
            copy[certLength + 127] = 2;
            return copy;
        }));
        Assert.Equal("KeaBadPublicValue", e.ErrorId);
    }

    [Fact]
    public void TamperedServerCertificateIsRefused()
    {
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server, (step, data) =>
        {
            if (step != 1) return data;
            var copy = (byte[])data.Clone();
            copy[KeaCertificateTests.IndexOf(copy, Encoding.ASCII.GetBytes("ftp.example"))] = (byte)'g';
            return copy;
        }));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
        Assert.Equal("KeaCertificateRejected", e.ErrorId);
        Assert.Contains("signature does not verify", e.Message);
    }

    [Fact]
    public void TamperedLabelListIsRefused()
    {
        var client = new KeaClientSecurity(Kit.ClientOptions());
        var server = new KeaServerSecurity(Kit.ServerOptions());
        var e = Assert.Throws<FtpException>(() => KeaTestKit.Exchange(client, server, (step, data) =>
        {
            if (step != 2) return data;
            var copy = (byte[])data.Clone();
            copy[^1] ^= 0x01;
            return copy;
        }));
        Assert.Equal(FtpErrorKind.Security, e.Kind);
    }

    [Fact]
    public void SecurityLabelTravelsEncryptedAndServerPolicyApplies()
    {
        var label = KeaSecurityLabel.Msp(Encoding.ASCII.GetBytes("SECRET//TEST LABEL"));
        var clientOptions = Kit.ClientOptions();
        clientOptions.Label = label;
        byte[]? adat = null;
        var client = new KeaClientSecurity(clientOptions);
        var server = new KeaServerSecurity(Kit.ServerOptions());
        KeaTestKit.Exchange(client, server, (step, data) => { if (step == 2) adat = data; return data; });
        Assert.Equal(KeaSecurityLabel.MspType, server.SessionLabel.Type);
        Assert.Equal(label.GetValue(), server.SessionLabel.GetValue());
        Assert.Throws<InvalidOperationException>(() => KeaCertificateTests.IndexOf(adat!, Encoding.ASCII.GetBytes("SECRET")));

        var strict = Kit.ServerOptions();
        strict.AcceptLabel = l => l.Type == KeaSecurityLabel.AbsentType;
        var refused = Assert.Throws<FtpException>(() =>
            KeaTestKit.Exchange(new KeaClientSecurity(clientOptions), new KeaServerSecurity(strict)));
        Assert.Equal("KeaLabelRefused", refused.ErrorId);
    }

    [Fact]
    public void TrustStoreFirstUseThenKnownThenChanged()
    {
        var folder = Directory.CreateTempSubdirectory("kea-trust-");
        try
        {
            var store = new FileTrustStore(folder.FullName);
            KeaClientOptions Options(bool accept)
            {
                var o = new KeaClientOptions(Kit.Alice, "FTP.example.test", 2121)
                {
                    TrustStore = store,
                    Policy = new TrustPolicy { AcceptNewKey = accept },
                };
                o.TrustedIssuers.Clear(); // trust through the store only, not through Alice's own CA
                return o;
            }

            // Unknown key, nobody to ask: Trust error naming the fingerprint, nothing recorded.
            var unknown = Assert.Throws<FtpException>(() =>
                KeaTestKit.Exchange(new KeaClientSecurity(Options(false)), new KeaServerSecurity(Kit.ServerOptions())));
            Assert.Equal(FtpErrorKind.Trust, unknown.Kind);
            Assert.Equal("ServerKeyUntrusted", unknown.ErrorId);
            Assert.Contains(Kit.Server.Fingerprint, unknown.Message);
            Assert.Empty(store.GetAll());

            // Accepted on first use: recorded as type KEA with the certificate's SubjectPublicKeyInfo.
            var first = new KeaClientSecurity(Options(true));
            KeaTestKit.Exchange(first, new KeaServerSecurity(Kit.ServerOptions()));
            Assert.Equal("FirstUse", first.Details.TrustSource);
            var entry = Assert.Single(new FileTrustStore(folder.FullName).GetAll());
            Assert.Equal(TrustKeyTypes.Kea, entry.KeyType);
            Assert.Equal("ftp.example.test", entry.Host);
            Assert.Equal(Kit.Server.Fingerprint, entry.Fingerprint);

            // Known now, even without accepting new keys.
            var second = new KeaClientSecurity(Options(false));
            KeaTestKit.Exchange(second, new KeaServerSecurity(Kit.ServerOptions()));
            Assert.Equal("TrustStore", second.Details.TrustSource);

            // The server's key changes: refused even with AcceptNewKey.
            var impostor = new KeaServerOptions(Kit.Ca.Issue("CN=ftp.example.test"));
            impostor.Users.MapSubject("CN=alice", "alice");
            var changed = Assert.Throws<FtpException>(() =>
                KeaTestKit.Exchange(new KeaClientSecurity(Options(true)), new KeaServerSecurity(impostor)));
            Assert.Equal(FtpErrorKind.Trust, changed.Kind);
            Assert.Equal("ServerKeyChanged", changed.ErrorId);
            Assert.Contains("CHANGED", changed.Message);
        }
        finally { folder.Delete(true); }
    }

    [Fact]
    public void ConfirmNewKeyIsAskedWithTheFingerprint()
    {
        var folder = Directory.CreateTempSubdirectory("kea-trust-");
        try
        {
            string? asked = null;
            var options = new KeaClientOptions(Kit.Alice, "ftp.example.test", 21)
            {
                TrustStore = new FileTrustStore(folder.FullName),
                Policy = new TrustPolicy { ConfirmNewKey = (query, caption) => { asked = caption + "|" + query; return true; } },
            };
            options.TrustedIssuers.Clear();
            KeaTestKit.Exchange(new KeaClientSecurity(options), new KeaServerSecurity(Kit.ServerOptions()));
            Assert.Contains("ftp.example.test", asked);
            Assert.Contains(Kit.Server.Fingerprint, asked);
            Assert.Single(options.TrustStore.GetAll());
        }
        finally { folder.Delete(true); }
    }

    [Fact]
    public void WithoutTrustStoreAServerFromAnUnknownCaIsRefused()
    {
        var other = KeaCertificateAuthority.Create("Elsewhere CA");
        var serverOptions = new KeaServerOptions(other.Issue("CN=ftp.example.test"));
        serverOptions.TrustedIssuers.Add(Kit.Ca.Issuer);
        var e = Assert.Throws<FtpException>(() =>
            KeaTestKit.Exchange(new KeaClientSecurity(Kit.ClientOptions()), new KeaServerSecurity(serverOptions)));
        Assert.Equal(FtpErrorKind.Trust, e.Kind);
        Assert.Equal("ServerKeyUntrusted", e.ErrorId);
    }

    [Fact]
    public void DifferentDomainIsRefused()
    {
        // A CA with its own freshly generated domain: its users cannot agree keys with the default domain.
        var foreign = KeaCertificateAuthority.Create("Foreign CA", newDomain: true);
        var options = new KeaClientOptions(foreign.Issue("frank"), "ftp.example.test", 21);
        options.TrustedIssuers.Add(Kit.Ca.Issuer);
        var e = Assert.Throws<FtpException>(() =>
            KeaTestKit.Exchange(new KeaClientSecurity(options), new KeaServerSecurity(Kit.ServerOptions())));
        Assert.Equal("KeaDomainMismatch", e.ErrorId);
    }
}
