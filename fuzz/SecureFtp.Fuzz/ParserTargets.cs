using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Listing;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;
using SecureFtp.Trust;

namespace SecureFtp.Fuzz;

/// <summary>Every parser that reads bytes a peer chose, as one function of those bytes. The same targets serve the
/// coverage-guided fuzzer (fuzz/run.sh, SharpFuzz and afl++) and the property tests and crash regressions in the
/// normal suite (tests/SecureFtp.Tests/Properties), so a crasher found by one is replayed by the other.
/// The contract of every target: it returns, or throws <see cref="FtpException"/> (the module's own error, with an
/// id); anything else escaping is a bug. Each target also checks what must hold of what it returned.</summary>
public static class ParserTargets
{
    /// <summary>Target names, as fuzz/run.sh and the seed corpus folders spell them.</summary>
    public static readonly string[] Names =
    {
        "reply", "mlsd", "list", "pathguard", "rfc2228-lines", "rfc2228-blocks", "safetp-adat", "safetp-blocks", "kea-adat", "kea-blocks", "server-command",
    };

    public static Action<byte[]> Get(string name) => name switch
    {
        "reply" => Reply,
        "mlsd" => Mlsd,
        "list" => List,
        "pathguard" => PathGuard,
        "rfc2228-lines" => Rfc2228Lines,
        "rfc2228-blocks" => Rfc2228Blocks,
        "safetp-adat" => SafeTpAdat,
        "safetp-blocks" => SafeTpBlocks,
        "kea-adat" => KeaAdat,
        "kea-blocks" => KeaBlocks,
        "server-command" => ServerCommand,
        _ => throw new ArgumentException($"unknown target '{name}'; one of: {string.Join(", ", Names)}"),
    };

    /// <summary>Control replies as a server sends them: read until the stream ends or the reader refuses.</summary>
    public static void Reply(byte[] input)
    {
        var reader = new FtpReplyReader(new MemoryStream(input, writable: false), new UTF8Encoding(false));
        for (int i = 0; i < 10_000; i++)
        {
            FtpReply reply;
            try { reply = reader.ReadReplyAsync(CancellationToken.None).GetAwaiter().GetResult(); }
            catch (FtpException e) when (e.ErrorId == "ConnectionClosed") { return; }
            Check(reply.Code is >= 100 and <= 999, "a reply code outside 100-999");
            Check(reader.BufferedBytes <= FtpReplyReader.MaxLineBytes * 2, "the reader buffered more than its bound");
        }
    }

    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    public static void Mlsd(byte[] input)
    {
        foreach (var line in Lines(input))
            if (ListingParser.ParseMlsd(line, "/dir") is { } item) CheckItem(item);
    }

    public static void List(byte[] input)
    {
        foreach (var line in Lines(input))
            if (ListingParser.ParseList(line, "/dir", Now) is { } item) CheckItem(item);
    }

    private static void CheckItem(FtpListItem item)
    {
        Check(item.Name != null, "a listing item without a name");
        Check(item.Length is null or >= 0, "a negative length");
    }

    private static readonly string GuardRoot = Path.Combine(Path.GetTempPath(), "secureftp-fuzz-root");

    /// <summary>A name from a hostile listing becomes a local path inside the destination, or is refused.</summary>
    public static void PathGuard(byte[] input)
    {
        string name = Encoding.UTF8.GetString(input);
        string path;
        try { path = LocalPathGuard.ResolveUnder(GuardRoot, name); }
        catch (FtpException e) when (e.ErrorId == LocalPathGuard.UnsafeNameErrorId) { return; }
        string root = Path.GetFullPath(GuardRoot) + Path.DirectorySeparatorChar;
        Check(Path.GetFullPath(path).StartsWith(root, StringComparison.Ordinal), $"'{name}' resolved outside the root: {path}");
        Check(!path.Contains('\0'), "a NUL in a resolved path");
    }

    /// <summary>Decoded RFC 2228 reply lines (the text inside a 631/632/633 token) and the base64 token layer.</summary>
    public static void Rfc2228Lines(byte[] input)
    {
        var lines = Lines(input).ToList();
        try { Security.Rfc2228.Rfc2228Lines.ParseDecodedReply(lines, 631); } catch (FtpException) { }
        foreach (var line in lines.Take(64))
            try { Security.Rfc2228.Rfc2228Lines.Unprotect(PassThrough.Instance, line, new UTF8Encoding(false), "fuzzed reply"); }
            catch (FtpException) { }
    }

    /// <summary>RFC 2228 s.9 data blocks (a 4-byte length, then the token) through the framing of ProtectedDataStream.</summary>
    public static void Rfc2228Blocks(byte[] input)
    {
        using var stream = new ProtectedDataStream(new MemoryStream(input, writable: false), () => PassThrough.Instance, () => PassThrough.Instance, 4096);
        var buffer = new byte[8192];
        long total = 0;
        while (true)
        {
            int n = stream.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None).GetAwaiter().GetResult();
            if (n == 0) break;
            total += n;
            Check(total <= input.Length, "more plaintext than input");
        }
    }

    private static readonly Lazy<SafeTpServerKey> SafeTpServerKeyLazy = new(() => SafeTpKeys.GenerateServerKey("Fuzz Server", 1024));
    private static readonly Lazy<SafeTpClientKey> SafeTpClientKeyLazy = new(() => SafeTpKeys.GenerateClientKey(1024));
    private static readonly IPAddress SafeTpAddress = IPAddress.Parse("192.0.2.10");

    private static IRfc2228Security SafeTpServer() => SafeTpMechanism.TryCreateServer("X-SafeTP1", SafeTpServerKeyLazy.Value, SafeTpAddress,
        new SafeTpServerPolicy { MinimumElGamalBits = 768 })!;

    private static IRfc2228Security SafeTpClient() => SafeTpMechanism.CreateClientSecurity(SafeTpClientKeyLazy.Value, "ftp.example.com", 21, SafeTpAddress,
        new MemoryTrustStoreForFuzzing(), new FtpClientOptions { Host = "ftp.example.com", AcceptNewKey = true });

    /// <summary>X-SafeTP1 ADAT messages: the input's first byte picks the receiving half and step, the rest is the message.</summary>
    public static void SafeTpAdat(byte[] input)
    {
        if (input.Length == 0) return;
        byte[] message = input.AsSpan(1).ToArray();
        int step = input[0] % 4;
        using var server = SafeTpServer();
        using var client = SafeTpClient();
        try
        {
            switch (step)
            {
                case 0: // the client receives M1 (the server's branded key)
                    client.IncomingAdat(message);
                    break;
                case 1: // the server receives M2 (the client's key) after sending M1
                    server.GetNextOutgoingAdat();
                    server.IncomingAdat(message);
                    break;
                case 2: // the client receives M3 after a real M1
                    client.IncomingAdat(server.GetNextOutgoingAdat());
                    client.GetNextOutgoingAdat();
                    client.IncomingAdat(message);
                    break;
                default: // the server receives M4 after a real M1..M3
                    client.IncomingAdat(server.GetNextOutgoingAdat());
                    server.IncomingAdat(client.GetNextOutgoingAdat());
                    client.IncomingAdat(server.GetNextOutgoingAdat());
                    client.GetNextOutgoingAdat();
                    server.IncomingAdat(message);
                    break;
            }
        }
        catch (FtpException) { }
    }

    private static readonly Lazy<(IRfc2228Security Client, IRfc2228Security Server)> SafeTpPair = new(() =>
    {
        var server = SafeTpServer();
        var client = SafeTpClient();
        IControlSecurity from = server, to = client;
        while (from.HasOutgoingAdat)
        {
            to.IncomingAdat(from.GetNextOutgoingAdat());
            (from, to) = (to, from);
        }
        return (client, server);
    });

    /// <summary>X-SafeTP1 control tokens and data blocks decoded by an established session.</summary>
    public static void SafeTpBlocks(byte[] input)
    {
        var (client, server) = SafeTpPair.Value;
        try { client.Decode(new ArraySegment<byte>(input)); } catch (FtpException) { }
        try { server.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new ArraySegment<byte>(input)); } catch (FtpException) { }
    }

    private static readonly Lazy<(KeaCertificateAuthority Ca, KeaCredential Server, KeaCredential Alice)> KeaSite = new(() =>
    {
        var ca = KeaCertificateAuthority.Create("CN=Fuzz CA");
        return (ca, ca.Issue("CN=ftp.example.test"), ca.Issue("CN=alice"));
    });

    private static KeaClientSecurity KeaClient()
    {
        var options = new KeaClientOptions(KeaSite.Value.Alice, "ftp.example.test", 21);
        options.TrustedIssuers.Add(KeaSite.Value.Ca.Issuer);
        return new KeaClientSecurity(options);
    }

    private static KeaServerSecurity KeaServer()
    {
        var options = new KeaServerOptions(KeaSite.Value.Server);
        options.TrustedIssuers.Add(KeaSite.Value.Ca.Issuer);
        options.Users.MapSubject("CN=alice", "alice");
        return new KeaServerSecurity(options);
    }

    /// <summary>KEA-SKIPJACK ADAT messages (RFC 2773 Figure 1): the first byte picks the receiving half and step.</summary>
    public static void KeaAdat(byte[] input)
    {
        if (input.Length == 0) return;
        byte[] message = input.AsSpan(1).ToArray();
        using var server = KeaServer();
        using var client = KeaClient();
        try
        {
            switch (input[0] % 3)
            {
                case 0: // the client receives Certb || Rb
                    client.IncomingAdat(message);
                    break;
                case 1: // the server receives the client's ADAT after its 334
                    server.GetNextOutgoingAdat();
                    server.IncomingAdat(message);
                    break;
                default: // the client receives the 235 IV after a real first step
                    client.IncomingAdat(server.GetNextOutgoingAdat());
                    client.GetNextOutgoingAdat();
                    client.IncomingAdat(message);
                    break;
            }
        }
        catch (FtpException) { }
    }

    private static readonly Lazy<(KeaClientSecurity Client, KeaServerSecurity Server)> KeaPair = new(() =>
    {
        var client = KeaClient();
        var server = KeaServer();
        client.IncomingAdat(server.GetNextOutgoingAdat());
        server.IncomingAdat(client.GetNextOutgoingAdat());
        client.IncomingAdat(server.GetNextOutgoingAdat());
        return (client, server);
    });

    /// <summary>KEA-SKIPJACK control tokens and data blocks decoded by an established session.</summary>
    public static void KeaBlocks(byte[] input)
    {
        var (client, server) = KeaPair.Value;
        try { client.Decode(new ArraySegment<byte>(input)); } catch (FtpException) { }
        try { server.CreateDataTransform(DataProtectionLevel.Private, sending: false).Decode(new ArraySegment<byte>(input)); } catch (FtpException) { }
    }

    /// <summary>The embedded server's command-line reader (Telnet IAC handling, the line bound) over a real loopback
    /// socket, as a client before login would feed it.</summary>
    public static void ServerCommand(byte[] input)
    {
        try
        {
            foreach (var line in ServerCommandLines(input))
                Check(Encoding.UTF8.GetByteCount(line) <= ServerControlChannel.MaxLineBytes * 3,
                    $"a command line of {line.Length} characters passed the {ServerControlChannel.MaxLineBytes}-byte bound");
        }
        catch (FtpException) { }
    }

    /// <summary>The lines the server's reader returns for <paramref name="input"/> sent by a client that then closes;
    /// throws the reader's FtpException when it refuses.</summary>
    public static List<string> ServerCommandLines(byte[] input)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sender.Connect(listener.LocalEndPoint!);
        using var accepted = listener.Accept();
        var writing = Task.Run(() =>
        {
            try { sender.Send(input); sender.Shutdown(SocketShutdown.Send); }
            catch (SocketException) { /* the reader gave up first */ }
        });
        var lines = new List<string>();
        using var channel = new ServerControlChannel(accepted);
        try
        {
            while (channel.ReadLineAsync(CancellationToken.None).GetAwaiter().GetResult() is { } line)
                lines.Add(line);
            return lines;
        }
        finally
        {
            accepted.Close();
            writing.Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Writes real ADAT messages and protected blocks (from a fresh in-process exchange) into the seed corpus
    /// folders, each ADAT with the step byte its target expects first.</summary>
    public static void WriteSeeds(string corpus)
    {
        void Write(string target, string name, byte[] data)
        {
            Directory.CreateDirectory(Path.Combine(corpus, target));
            File.WriteAllBytes(Path.Combine(corpus, target, name), data);
        }
        IControlSecurity from = SafeTpServer(), to = SafeTpClient();
        var safeTp = ((IRfc2228Security)to, (IRfc2228Security)from);
        for (int step = 0; from.HasOutgoingAdat; step++)
        {
            var message = from.GetNextOutgoingAdat();
            Write("safetp-adat", $"m{step + 1}", new[] { (byte)step }.Concat(message).ToArray());
            to.IncomingAdat(message);
            (from, to) = (to, from);
        }
        Write("safetp-blocks", "control", safeTp.Item2.Encode(new ArraySegment<byte>(Encoding.ASCII.GetBytes("226 Transfer complete."))));
        Write("safetp-blocks", "data", safeTp.Item2.CreateDataTransform(DataProtectionLevel.Private, sending: true).Encode(new ArraySegment<byte>(new byte[100])));
        var keaClient = KeaClient();
        var keaServer = KeaServer();
        var first = keaServer.GetNextOutgoingAdat();
        Write("kea-adat", "certb-rb", new byte[] { 0 }.Concat(first).ToArray());
        keaClient.IncomingAdat(first);
        var second = keaClient.GetNextOutgoingAdat();
        Write("kea-adat", "client", new byte[] { 1 }.Concat(second).ToArray());
        keaServer.IncomingAdat(second);
        var third = keaServer.GetNextOutgoingAdat();
        Write("kea-adat", "iv", new byte[] { 2 }.Concat(third).ToArray());
        keaClient.IncomingAdat(third);
        Write("kea-blocks", "control", keaServer.Encode(new ArraySegment<byte>(Encoding.ASCII.GetBytes("226 Transfer complete."))));
        Write("kea-blocks", "data", keaServer.CreateDataTransform(DataProtectionLevel.Private, sending: true).Encode(new ArraySegment<byte>(new byte[100])));
    }

    private static IEnumerable<string> Lines(byte[] input)
        => Encoding.UTF8.GetString(input).Split('\n').Select(l => l.TrimEnd('\r')).Take(10_000);

    /// <summary>A property that must hold of what a parser returned; its failure is a finding, like a crash.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "A finding of the fuzzer, named as the property tests report it.")]
    public sealed class PropertyViolation(string message) : Exception(message);

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new PropertyViolation(what);
    }

    /// <summary>A trust store in memory (the fuzzed exchange must not touch the user's files).</summary>
    private sealed class MemoryTrustStoreForFuzzing : ITrustStore
    {
        private readonly List<TrustedKey> _keys = new();
        public string Location => "memory";
        public IReadOnlyList<TrustedKey> GetAll() => _keys.ToList();
        public IReadOnlyList<TrustedKey> Find(string host, int port, string keyType) => _keys.Where(k => k.Host == host && k.KeyType == keyType).ToList();
        public bool HasAnyKeyFor(string host, int port) => _keys.Any(k => k.Host == host);
        public void Add(TrustedKey key) => _keys.Add(key);
        public int Remove(string host, int port, string? keyType, string? fingerprint) => _keys.RemoveAll(k => k.Host == host);
    }

    /// <summary>An identity transform: the RFC 2228 framing is exercised on its own, without a mechanism's MAC.</summary>
    private sealed class PassThrough : ITransform
    {
        public static readonly PassThrough Instance = new();
        public int MaximumEncodedSize(int decodedSize) => decodedSize;
        public int MaximumDecodedSize(int encodedSize) => encodedSize;
        public byte[] Encode(ArraySegment<byte> data) => data.ToArray();
        public byte[] Decode(ArraySegment<byte> token) => token.ToArray();
    }
}
