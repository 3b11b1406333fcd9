using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Policy;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Server;
using SecureFtp.Tests.Server;
using Xunit;

namespace SecureFtp.Tests.Client;

/// <summary>One registry of mechanisms per side, keyed by AUTH name: every spelling a user may type resolves to
/// the same mechanism on the client and on the server, an unknown name says which names exist, and a mechanism
/// registered from outside the engine is offered by the server and chosen by the client like a built-in one.</summary>
public sealed class MechanismRegistryTests
{
    public static TheoryData<string, string> Spellings => new()
    {
        { "Tls", "TLS" },
        { "TLS-C", "TLS" },
        { "Ssl", "SSL" },
        { "tls-p", "SSL" },
        { "SafeTp", "X-SafeTP1" },
        { "x-safetp1", "X-SafeTP1" },
        { "KeaSkipjack", "KEA-SKIPJACK" },
        { "KEA-SKIPJACK", "KEA-SKIPJACK" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Every_spelling_resolves_to_the_same_AUTH_name_on_both_sides(string typed, string authName)
    {
        Assert.Equal(authName, ClientMechanisms.Default.Resolve(typed).Name.AuthName);
        Assert.Equal(authName, ServerMechanisms.Default.Resolve(typed).Name.AuthName);
        Assert.Equal(authName, ServerMechanisms.ToAuthName(typed));
    }

    [Fact]
    public void Every_enum_member_that_is_a_mechanism_resolves_through_the_registry()
    {
        foreach (var member in Enum.GetValues<FtpMechanism>())
        {
            if (ClientMechanisms.PolicyWords.Contains(member.ToString())) continue;
            var byEnum = MechanismOrder.Expand(new FtpClientOptions { Mechanisms = new List<FtpMechanism> { member } }).Mechanisms.Single();
            var byAuthName = MechanismOrder.Expand(new FtpClientOptions { MechanismNames = { byEnum.Name.AuthName } }).Mechanisms.Single();
            Assert.Same(byEnum, byAuthName);
        }
    }

    [Fact]
    public void Auto_tries_TLS_then_X_SafeTP1_then_KEA_only_with_a_credential()
    {
        string Order(FtpClientOptions o) => string.Join(",", MechanismOrder.Expand(o).Mechanisms.Select(m => m.Name.AuthName));
        Assert.Equal("TLS,X-SafeTP1", Order(new FtpClientOptions()));
        Assert.Equal("TLS,X-SafeTP1,KEA-SKIPJACK", Order(new FtpClientOptions { KeaCredentialPath = "kea.pem" }));
        Assert.Equal("SSL,TLS,X-SafeTP1", Order(new FtpClientOptions { MechanismNames = { "TLS-P", "Auto", "tls" } }));
    }

    [Fact]
    public async Task An_unknown_client_name_fails_before_connecting_and_lists_the_known_names()
    {
        // Nothing listens on the port: the error must come from the name, not from the network.
        var options = new FtpClientOptions { Host = "127.0.0.1", Port = FreePort(), MechanismNames = { "Tls", "GSSAPI" } };
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(options));
        Assert.Equal("MechanismUnknown", e.ErrorId);
        Assert.Equal(FtpErrorKind.NotSupported, e.Kind);
        foreach (var name in new[] { "'GSSAPI'", "TLS", "SSL", "X-SafeTP1", "KEA-SKIPJACK", "KeaSkipjack", "Auto", "ImplicitTls", "None" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public async Task An_unknown_server_name_stops_the_start_and_lists_the_known_names()
    {
        var options = new SecureFtpServerOptions
        {
            Root = Path.GetTempPath(),
            Certificate = Infrastructure.TestCertificates.Current.Server,
            Mechanisms = { "GSSAPI" },
        };
        using var server = new SecureFtpServer(options);
        var e = await Assert.ThrowsAsync<FtpException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal("MechanismUnknown", e.ErrorId);
        foreach (var name in new[] { "'GSSAPI'", "TLS", "TLS-C", "SSL", "TLS-P", "X-SafeTP1", "KEA-SKIPJACK" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void A_name_cannot_be_registered_twice()
    {
        var registry = ClientMechanisms.CreateDefault();
        var clash = new ClientMechanismRegistration(new MechanismName("X-NEW", "KeaSkipjack"), _ => throw new InvalidOperationException());
        var e = Assert.Throws<ArgumentException>(() => registry.Register(clash));
        Assert.Contains("KEA-SKIPJACK", e.Message);
        Assert.False(registry.TryResolve("X-NEW", out _));
    }

    [Fact]
    public async Task A_mechanism_registered_by_a_test_is_offered_by_the_server_and_chosen_by_the_client()
    {
        var file = RandomNumberGenerator.GetBytes(100_000);
        await using var server = await RunningServer.StartRootAsync(o =>
        {
            o.Mechanisms = new List<string> { "TLS" };
            o.AddRfc2228Mechanism(SealMechanism.AuthName, _ => new SealMechanism());
        });
        await File.WriteAllBytesAsync(Path.Combine(server.RootDirectory!, "file.bin"), file);

        var registry = ClientMechanisms.CreateDefault().Register(new ClientMechanismRegistration(
            new MechanismName(SealMechanism.AuthName, "TestSeal"),
            c => new Rfc2228ClientMechanism(SealMechanism.AuthName, (_, _) => new SealMechanism(), c.Transcript)));
        var wire = new List<string>();
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
            MechanismRegistry = registry,
            // SSL first: the server does not offer it here, so the client must move on to the registered mechanism.
            MechanismNames = { "Ssl", "TestSeal" },
            Trace = (sent, line) => { lock (wire) wire.Add(line); },
        };
        using var client = await FtpClient.ConnectAsync(options);

        Assert.Equal(SealMechanism.AuthName, client.Security.Mechanism);
        var download = new MemoryStream();
        await client.DownloadAsync("file.bin", download);
        Assert.Equal(file, download.ToArray());
        Assert.True(client.CommandChannelProtected);
        Assert.Equal(DataProtectionLevel.Private, client.DataProtection);
        lock (wire)
        {
            // SSL was tried first and refused (not offered here), then the registered mechanism.
            Assert.True(wire.IndexOf("AUTH SSL") >= 0 && wire.IndexOf("AUTH SSL") < wire.IndexOf("AUTH " + SealMechanism.AuthName), string.Join("\n", wire));
        }
        Assert.Contains($"AUTH {SealMechanism.AuthName}: security data exchange complete", server.LogText);

        // The server lists it in FEAT, and knows it only by its AUTH name on the wire.
        using var raw = new TcpClient();
        await raw.ConnectAsync(IPAddress.Loopback, server.Port);
        using var reader = new StreamReader(raw.GetStream(), Encoding.ASCII);
        var writer = new StreamWriter(raw.GetStream(), Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        Assert.StartsWith("220", await reader.ReadLineAsync());
        await writer.WriteLineAsync("FEAT");
        var feat = new List<string>();
        string? line;
        while ((line = await reader.ReadLineAsync()) != null && !line.StartsWith("211 ", StringComparison.Ordinal)) feat.Add(line);
        Assert.Contains(feat, l => l.Contains(" AUTH ", StringComparison.Ordinal) && l.Contains(SealMechanism.AuthName));
        await writer.WriteLineAsync("AUTH TestSeal");
        Assert.StartsWith("504", await reader.ReadLineAsync());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A mechanism that exists only in this test: a one-round ADAT exchange and a transform that seals every
    /// block with a tag and refuses a block without it. Not security; it proves the framework needs nothing more.</summary>
    private sealed class SealMechanism : IRfc2228Security
    {
        public const string AuthName = "X-TEST-SEAL";
        private static readonly byte[] Hello = Encoding.ASCII.GetBytes("hello");
        private static readonly byte[] Tag = { 0x53, 0x45 };
        private bool _sent;

        public string MechanismName => AuthName;
        public SecurityDetails Details { get; } = new() { Mechanism = AuthName, ProtocolVersion = "test" };
        public int MaxBufferSize => 4096;
        public IAuthenticatedPeer? AuthenticatedPeer => null;
        public bool IsEstablished { get; private set; }
        public bool HasOutgoingAdat => !_sent;
        public bool ExpectingIncomingAdat => !IsEstablished;

        public byte[] GetNextOutgoingAdat()
        {
            _sent = true;
            return Hello;
        }

        public void IncomingAdat(byte[] data)
        {
            if (!data.SequenceEqual(Hello)) throw new FtpException(FtpErrorKind.Security, "SealHello", "not hello");
            IsEstablished = true;
        }

        public bool Supports(DataProtectionLevel level) => level == DataProtectionLevel.Private;
        public ITransform CreateDataTransform(DataProtectionLevel level, bool sending) => this;
        public int MaximumEncodedSize(int decodedSize) => decodedSize + Tag.Length;
        public int MaximumDecodedSize(int encodedSize) => Math.Max(0, encodedSize - Tag.Length);
        public byte[] Encode(ArraySegment<byte> data) => Tag.Concat(data.Select(b => (byte)(b ^ 0x5A))).ToArray();

        public byte[] Decode(ArraySegment<byte> token)
        {
            if (token.Count < Tag.Length || !token.Take(Tag.Length).SequenceEqual(Tag))
                throw new FtpException(FtpErrorKind.Security, "SealBroken", "A block without the seal.");
            return token.Skip(Tag.Length).Select(b => (byte)(b ^ 0x5A)).ToArray();
        }

        public void Dispose() { }
    }
}
