using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SecureFtp.Tests.Mitm;

/// <summary>A man in the middle who can do TLS: it relays the control connection to the real server, and when the
/// client sends AUTH TLS it runs TLS on both legs itself: to the server as a client (trusting anything), to the
/// client as a server with <c>presentedCertificate</c>. Past that point it reads the client's commands in clear
/// and may answer some itself. (The line-only <see cref="Rfc2228.TamperingProxy"/> cannot follow a TLS upgrade.)
/// The relay is one command, then its replies until a final (non-1xx) one: enough for the control exchanges of
/// these tests.</summary>
internal sealed class TlsInterceptingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _presentedCertificate;
    private readonly Func<string, string?> _answerItself;
    private readonly Func<string, string> _rewriteReply;
    private readonly List<string> _commandsAfterTls = new();
    private readonly Task _run;

    /// <param name="serverPort">The real server's control port on 127.0.0.1.</param>
    /// <param name="presentedCertificate">The certificate (with its key) shown to the client.</param>
    /// <param name="answerItself">Given a command the client sent under TLS: the reply line to send instead of
    /// forwarding it, or null to forward it.</param>
    /// <param name="rewriteReply">Given a reply line from the server: the line the client gets instead.</param>
    public TlsInterceptingProxy(int serverPort, X509Certificate2 presentedCertificate, Func<string, string?>? answerItself = null,
        Func<string, string>? rewriteReply = null)
    {
        _presentedCertificate = presentedCertificate;
        _answerItself = answerItself ?? (_ => null);
        _rewriteReply = rewriteReply ?? (line => line);
        _listener.Start();
        _run = Task.Run(() => RelayOneSessionAsync(serverPort));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Whether the client completed the TLS handshake with this proxy.</summary>
    public bool ClientHandshakeCompleted { get; private set; }

    /// <summary>The commands the client sent after the TLS handshake (decrypted by the proxy).</summary>
    public IReadOnlyList<string> CommandsAfterTls { get { lock (_commandsAfterTls) return _commandsAfterTls.ToList(); } }

    /// <summary>Waits until the relayed session is over (the client hung up or the handshake failed).</summary>
    public Task Finished => _run;

    private async Task RelayOneSessionAsync(int serverPort)
    {
        using var clientTcp = await _listener.AcceptTcpClientAsync();
        using var serverTcp = new TcpClient();
        await serverTcp.ConnectAsync(IPAddress.Loopback, serverPort);
        Stream client = clientTcp.GetStream(), server = serverTcp.GetStream();
        bool underTls = false;
        try
        {
            await RelayReplyAsync(server, client); // the greeting
            while (await ReadLineAsync(client) is { } command)
            {
                if (underTls)
                {
                    lock (_commandsAfterTls) _commandsAfterTls.Add(command);
                    if (_answerItself(command) is { } answer)
                    {
                        await WriteLineAsync(client, answer);
                        continue;
                    }
                }
                await WriteLineAsync(server, command);
                string finalReply = await RelayReplyAsync(server, client);
                if (!underTls && command.StartsWith("AUTH TLS", StringComparison.OrdinalIgnoreCase) && finalReply.StartsWith("234", StringComparison.Ordinal))
                {
                    var toServer = new SslStream(server, false, (_, _, _, _) => true);
                    await toServer.AuthenticateAsClientAsync("localhost");
                    server = toServer;
                    var toClient = new SslStream(client, false);
                    await toClient.AuthenticateAsServerAsync(_presentedCertificate);
                    client = toClient;
                    ClientHandshakeCompleted = true;
                    underTls = true;
                }
            }
        }
        catch (Exception e) when (e is IOException or AuthenticationException or ObjectDisposedException) { /* a side hung up or refused TLS */ }
    }

    /// <summary>Relays reply lines from the server until a final reply's last line, which it returns.</summary>
    private async Task<string> RelayReplyAsync(Stream server, Stream client)
    {
        while (true)
        {
            string line = _rewriteReply(await ReadLineAsync(server) ?? throw new IOException("the server hung up"));
            await WriteLineAsync(client, line);
            bool lastLineOfReply = line.Length >= 4 && char.IsDigit(line[0]) && char.IsDigit(line[1]) && char.IsDigit(line[2]) && line[3] == ' ';
            if (lastLineOfReply && line[0] != '1') return line;
        }
    }

    /// <summary>Reads one CRLF line a byte at a time, so nothing past it is buffered when the stream turns to TLS.</summary>
    private static async Task<string?> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1)
        {
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)one[0]);
        }
        return line.Length > 0 ? line.ToString() : null;
    }

    private static async Task WriteLineAsync(Stream stream, string line)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        await stream.FlushAsync();
    }

    /// <summary>A certificate an attacker can make: the server's names (DNS:localhost, IP:127.0.0.1), self-signed.</summary>
    public static X509Certificate2 AttackerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* the test's assertions are what matter */ }
    }
}
