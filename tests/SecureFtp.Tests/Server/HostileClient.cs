using System.Net;
using System.Net.Sockets;
using System.Text;
using SecureFtp.Protocol;

namespace SecureFtp.Tests.Server;

/// <summary>An attacker's control connection written for the tests: a bare socket (optionally from another loopback
/// address, 127.0.0.2 and up, so it counts as another client), bytes sent exactly as given, replies read line by line.
/// It uses no client logic of the module, so nothing polite happens on its side.</summary>
public sealed class HostileClient : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private HostileClient(Socket socket)
    {
        Socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: false);
    }

    public Socket Socket { get; }
    public NetworkStream Stream { get; }

    public static async Task<HostileClient> ConnectAsync(int port, string from = "127.0.0.1")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new HostileClient(socket);
    }

    public Task SendLineAsync(string line) => SendAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

    public async Task SendAsync(byte[] bytes) => await Stream.WriteAsync(bytes);

    /// <summary>One whole reply (multi-line replies joined); null when the server closed the connection first.</summary>
    public async Task<FtpReply?> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var first = await ReadLineAsync(cts.Token);
        if (first == null) return null;
        var lines = new List<string> { first.Length > 4 ? first.Substring(4) : "" };
        if (first.Length > 3 && first[3] == '-')
        {
            string end = string.Concat(first.AsSpan(0, 3), " ");
            while (true)
            {
                var next = await ReadLineAsync(cts.Token) ?? throw new IOException("Closed inside a multi-line reply.");
                bool last = next.StartsWith(end, StringComparison.Ordinal);
                lines.Add(last ? next.Substring(4) : next);
                if (last) break;
            }
        }
        return new FtpReply(int.Parse(first.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture), lines);
    }

    public async Task<FtpReply> ExpectAsync(int code, TimeSpan? timeout = null)
    {
        var reply = await ReadReplyAsync(timeout) ?? throw new Xunit.Sdk.XunitException($"Expected {code}, the server closed the connection.");
        if (reply.Code != code) throw new Xunit.Sdk.XunitException($"Expected {code}, got: {reply}");
        return reply;
    }

    public async Task<FtpReply> CommandAsync(string line, int expected)
    {
        await SendLineAsync(line);
        return await ExpectAsync(expected);
    }

    /// <summary>True once the server closed the connection (reads 0 or a reset) within the timeout.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                if (_start < _end) { _start = _end; continue; }
                int n = await Stream.ReadAsync(_buffer, cts.Token);
                if (n == 0) return true;
            }
        }
        catch (OperationCanceledException) { return false; }
        catch (IOException) { return true; }
    }

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        var line = new List<byte>();
        while (true)
        {
            while (_start < _end)
            {
                byte b = _buffer[_start++];
                if (b == '\n')
                {
                    if (line.Count > 0 && line[^1] == '\r') line.RemoveAt(line.Count - 1);
                    return Encoding.UTF8.GetString(line.ToArray());
                }
                line.Add(b);
            }
            int n;
            try { n = await Stream.ReadAsync(_buffer, ct); }
            catch (IOException) { return null; }
            if (n == 0) return null;
            _start = 0;
            _end = n;
        }
    }

    public void Dispose()
    {
        Stream.Dispose();
        Socket.Dispose();
    }
}
