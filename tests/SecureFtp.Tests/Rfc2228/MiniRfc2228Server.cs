using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>A small FTP server for these tests, built on <see cref="Rfc2228ServerNegotiation"/> exactly as the
/// embedded server is meant to use it: every line goes through Receive, every reply through FormatReply, every data
/// connection through OpenDataStream. It serves one file from memory and keeps what is uploaded.</summary>
internal sealed class MiniRfc2228Server : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _run;
    private readonly SafeTpServerKey _key;
    private readonly SafeTpServerPolicy _policy;

    public MiniRfc2228Server(SafeTpServerKey key, SafeTpServerPolicy? policy = null)
    {
        _key = key;
        _policy = policy ?? new SafeTpServerPolicy();
        _listener.Start();
        _run = Task.Run(RunAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public byte[] Download { get; set; } = Array.Empty<byte>();
    /// <summary>Wraps the raw download data connection (under the protection), for tests that alter blocks on the wire.</summary>
    public Func<Stream, Stream>? WrapDownloadConnection { get; set; }
    public byte[]? Uploaded { get; private set; }
    public Exception? UploadError { get; private set; }
    public Rfc2228ServerNegotiation? Negotiation { get; private set; }

    /// <summary>Every line as it arrived on the wire, for checks that nothing secret crossed in cleartext.</summary>
    public List<string> WireLines { get; } = new();

    private async Task RunAsync()
    {
        using var socket = await _listener.AcceptSocketAsync();
        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        var local = ((IPEndPoint)socket.LocalEndPoint!).Address;
        using var rfc = new Rfc2228ServerNegotiation(name => SafeTpMechanism.TryCreateServer(name, _key, local, _policy));
        Negotiation = rfc;
        TcpListener? data = null;
        async Task Send(IReadOnlyList<string> lines)
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n")));
            await stream.WriteAsync(bytes);
        }
        try
        {
            await Send(rfc.FormatReply(220, "Mini RFC 2228 server ready"));
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (WireLines) WireLines.Add(line);
                var step = rfc.Receive(line);
                if (step.Reply != null)
                {
                    await Send(step.Reply);
                    if (step.CloseConnection) return;
                    continue;
                }
                string command = step.Command!;
                string verb = command.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "USER": await Send(rfc.FormatReply(331, "Password required")); break;
                    case "PASS": await Send(rfc.FormatReply(command == "PASS secret-pw" ? 230 : 530, "Logged in")); break;
                    case "FEAT": await Send(rfc.FormatReply(211, "Features:", " DIGT", " PBSZ", " PROT", "End")); break;
                    case "NOOP": await Send(rfc.FormatReply(200, "OK")); break;
                    case "TYPE": await Send(rfc.FormatReply(200, "Type set")); break;
                    case "PWD": await Send(rfc.FormatReply(257, "\"/\" is the current directory")); break;
                    case "SIZE": await Send(rfc.FormatReply(213, Download.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))); break;
                    case "PASV":
                        data = new TcpListener(IPAddress.Loopback, 0);
                        data.Start();
                        int p = ((IPEndPoint)data.LocalEndpoint).Port;
                        await Send(rfc.FormatReply(227, $"Entering Passive Mode (127,0,0,1,{p / 256},{p % 256})"));
                        break;
                    case "RETR":
                        {
                            await Send(rfc.FormatReply(150, "Opening data connection"));
                            using (var dataSocket = await data!.AcceptSocketAsync())
                            using (var dataStream = rfc.OpenDataStream(WrapDownloadConnection?.Invoke(new NetworkStream(dataSocket, ownsSocket: false)) ?? new NetworkStream(dataSocket, ownsSocket: false)))
                                await dataStream.WriteAsync(Download);
                            await Send(rfc.FormatReply(226, "Transfer complete"));
                            break;
                        }
                    case "STOR":
                        {
                            await Send(rfc.FormatReply(150, "Opening data connection"));
                            try
                            {
                                using var dataSocket = await data!.AcceptSocketAsync();
                                using var dataStream = rfc.OpenDataStream(new NetworkStream(dataSocket, ownsSocket: false));
                                var buffer = new MemoryStream();
                                await dataStream.CopyToAsync(buffer);
                                // Seed 000 s.5.4: the 226 goes out only once the end-of-file block arrived.
                                Uploaded = buffer.ToArray();
                                await Send(rfc.FormatReply(226, $"Received {Uploaded.Length} bytes"));
                            }
                            catch (FtpException e)
                            {
                                UploadError = e;
                                await Send(rfc.FormatReply(426, "Transfer aborted: " + e.ErrorId));
                            }
                            break;
                        }
                    case "QUIT": await Send(rfc.FormatReply(221, "Bye")); return;
                    case "AUTH": await Send(rfc.FormatReply(504, "Unknown mechanism")); break;
                    default: await Send(rfc.FormatReply(502, "Not implemented")); break;
                }
            }
        }
        catch (IOException) { }
        finally { data?.Stop(); }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(10)); } catch { }
    }
}

/// <summary>An attacker on the path for these tests: forwards everything, except that it answers the client's
/// "AUTH TLS" itself with 500, so the client believes the server lacks TLS (seed 000 s.5.6, coerced fallback).</summary>
internal sealed class AuthSwallowingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _run;

    public AuthSwallowingProxy(int serverPort)
    {
        _listener.Start();
        _run = Task.Run(async () =>
        {
            using var client = await _listener.AcceptTcpClientAsync();
            using var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, serverPort);
            var toClient = client.GetStream();
            var toServer = server.GetStream();
            var down = toServer.CopyToAsync(toClient);
            using var reader = new StreamReader(toClient, Encoding.ASCII);
            try
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    var bytes = Encoding.ASCII.GetBytes(line == "AUTH TLS" ? "500 AUTH not understood\r\n" : line + "\r\n");
                    await (line == "AUTH TLS" ? toClient : toServer).WriteAsync(bytes);
                }
            }
            catch (IOException) { }
            server.Close(); // the client left: hang up on the server too, which ends the other direction
            try { await down; } catch (IOException) { } catch (ObjectDisposedException) { }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(10)); } catch { }
    }
}
