using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SecureFtp.Tests.Hostile;

/// <summary>A plain-FTP server that lies, written for the tests that play the attacker against the client. It logs
/// anyone in, answers LIST with whatever listing the test scripted for the directory (names such as "../../x"
/// included), and serves any RETR with known content, so a test can see where the client wrote it. Each command is
/// also offered to <see cref="Override"/> first, so a test can script a hostile reply (endless 1xx, slow drip...).
/// By default no MLST in FEAT: the client falls back to LIST, the format a hostile server controls completely.</summary>
internal sealed class HostileFtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public HostileFtpServer()
    {
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public string Host => "127.0.0.1";
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The LIST output for a directory ("/" for the login directory), or null for 550.</summary>
    public Func<string, string?> Listing { get; set; } = _ => "";

    /// <summary>Advertise MLST and answer MLSD with <see cref="Listing"/> (then written as MLSD fact lines).</summary>
    public bool Mlsd { get; set; }

    /// <summary>What RETR sends for a path.</summary>
    public Func<string, byte[]> FileContent { get; set; } = path => Encoding.UTF8.GetBytes("content of " + path);

    /// <summary>Gets each command line first; returns true when it has answered it (through the writer).</summary>
    public Func<string, Stream, Task<bool>>? Override { get; set; }

    /// <summary>Every command received, in order.</summary>
    public ConcurrentQueue<string> Commands { get; } = new();

    /// <summary>Answer AUTH TLS with this certificate and ask for the client's (none of the server's replies are
    /// otherwise different: data connections stay in the clear, PROT C only).</summary>
    public X509Certificate2? TlsCertificate { get; set; }

    /// <summary>The SHA-1 hash of the certificate the client presented in the last TLS handshake, if any.</summary>
    public string? ClientCertificateSeen { get; private set; }

    /// <summary>Control connections accepted so far.</summary>
    public int Connections => _connections;
    private int _connections;

    /// <summary>Cancelled when the server is disposed: scripted endless replies stop on it.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Replaces the "220" greeting (a greeting that drips, or never ends).</summary>
    public Func<Stream, Task>? Greeting { get; set; }

    /// <summary>Replaces the "226" that ends a LIST/NLST/RETR once its data was sent (e.g. 150 forever).</summary>
    public Func<Stream, Task>? TransferCompletion { get; set; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        Interlocked.Increment(ref _connections);
        using var plain = new NetworkStream(socket, ownsSocket: false);
        Stream stream = plain;
        var reader = new StreamReader(stream, new UTF8Encoding(false));
        SslStream? tls = null;
        TcpListener? data = null;
        string cwd = "/";
        async Task Reply(string text) => await stream.WriteAsync(Encoding.UTF8.GetBytes(text + "\r\n"), _stop.Token);
        try
        {
            if (Greeting != null) await Greeting(stream);
            else await Reply("220 hostile test server");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                Commands.Enqueue(line);
                if (Override != null && await Override(line, stream)) continue;
                int space = line.IndexOf(' ');
                string verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
                string arg = space < 0 ? "" : line[(space + 1)..];
                switch (verb)
                {
                    case "AUTH" when TlsCertificate != null && arg.Equals("TLS", StringComparison.OrdinalIgnoreCase):
                        await Reply("234 go ahead");
                        tls = new SslStream(plain, leaveInnerStreamOpen: true);
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                        {
                            ServerCertificate = TlsCertificate,
                            ClientCertificateRequired = true,
                            // This server is not checking trust, only recording what the client presented.
                            RemoteCertificateValidationCallback = (_, certificate, _, _) => { ClientCertificateSeen = certificate?.GetCertHashString(); return true; },
                        }, _stop.Token);
                        stream = tls;
                        reader = new StreamReader(tls, new UTF8Encoding(false));
                        break;
                    case "PBSZ": await Reply("200 PBSZ=0"); break;
                    case "PROT": await Reply(arg == "C" ? "200 ok" : "536 only PROT C here"); break;
                    case "USER": await Reply("331 password please"); break;
                    case "PASS": await Reply("230 logged in"); break;
                    case "SYST": await Reply("215 UNIX Type: L8"); break;
                    case "FEAT": await Reply("211-Features:\r\n SIZE\r\n EPSV\r\n" + (Mlsd ? " MLST type*;size*;modify*;\r\n" : "") + "211 End"); break;
                    case "PWD": await Reply($"257 \"{cwd}\" is the current directory"); break;
                    case "CWD": cwd = arg.StartsWith('/') ? arg : "/" + arg; await Reply("250 ok"); break;
                    case "TYPE": case "OPTS": case "MODE": case "STRU": await Reply("200 ok"); break;
                    case "SIZE": await Reply("550 no size here"); break;
                    case "MDTM": await Reply("550 no time here"); break;
                    case "NOOP": await Reply("200 ok"); break;
                    case "QUIT": await Reply("221 bye"); return;
                    case "EPSV":
                    case "PASV":
                        data?.Stop();
                        data = new TcpListener(IPAddress.Loopback, 0);
                        data.Start();
                        int port = ((IPEndPoint)data.LocalEndpoint).Port;
                        await Reply(verb == "EPSV" ? $"229 Entering Extended Passive Mode (|||{port}|)" : $"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 255})");
                        break;
                    case "LIST":
                    case "NLST":
                    case "MLSD":
                        {
                            string dir = arg.Length == 0 || arg.StartsWith('-') ? cwd : arg;
                            string? listing = Listing(dir);
                            if (listing == null || data == null) { await Reply("550 no such directory"); break; }
                            await SendDataAsync(data, Encoding.UTF8.GetBytes(listing), Reply, stream);
                            data = null;
                            break;
                        }
                    case "MLST": await Reply("550 not here"); break;
                    case "RETR":
                        if (data == null) { await Reply("425 use PASV first"); break; }
                        await SendDataAsync(data, FileContent(arg), Reply, stream);
                        data = null;
                        break;
                    default: await Reply("502 not implemented"); break;
                }
            }
        }
        catch (Exception) { /* the client went away, or the test ended */ }
        finally
        {
            data?.Stop();
            tls?.Dispose();
        }
    }

    private async Task SendDataAsync(TcpListener data, byte[] bytes, Func<string, Task> reply, Stream control)
    {
        await reply("150 here it comes");
        using (var client = await data.AcceptSocketAsync(_stop.Token))
        {
            await client.SendAsync(bytes, SocketFlags.None, _stop.Token);
            client.Shutdown(SocketShutdown.Both);
        }
        data.Stop();
        if (TransferCompletion != null) await TransferCompletion(control);
        else await reply("226 done");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; } catch (Exception) { }
        _stop.Dispose();
    }
}
