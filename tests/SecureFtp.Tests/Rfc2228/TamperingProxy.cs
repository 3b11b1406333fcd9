using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>A man in the middle on the control connection for these tests: it sees every line in both directions
/// and may forward, drop, alter, repeat or reflect it. The rule returns true when it handled the line itself.</summary>
internal sealed class TamperingProxy : IAsyncDisposable
{
    public sealed class Wire
    {
        private readonly Stream _client, _server;
        private readonly SemaphoreSlim _gate = new(1, 1);
        internal Wire(Stream client, Stream server) { _client = client; _server = server; }
        public Task ToServer(string line) => Write(_server, line);
        public Task ToClient(string line) => Write(_client, line);
        private async Task Write(Stream s, string line)
        {
            await _gate.WaitAsync();
            try { await s.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n")); }
            finally { _gate.Release(); }
        }
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _run;

    /// <param name="rule">(fromClient, line, wire) => handled. Unhandled lines are forwarded unchanged.</param>
    public TamperingProxy(int serverPort, Func<bool, string, Wire, Task<bool>> rule)
    {
        _listener.Start();
        _run = Task.Run(async () =>
        {
            using var client = await _listener.AcceptTcpClientAsync();
            using var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, serverPort);
            var wire = new Wire(client.GetStream(), server.GetStream());
            async Task Pump(Stream from, bool fromClient)
            {
                using var reader = new StreamReader(from, Encoding.ASCII);
                try
                {
                    while (await reader.ReadLineAsync() is { } line)
                    {
                        if (await rule(fromClient, line, wire)) continue;
                        await (fromClient ? wire.ToServer(line) : wire.ToClient(line));
                    }
                }
                catch (IOException) { }
                catch (ObjectDisposedException) { }
                // One side hung up: hang up on the other so its pump ends too.
                client.Close();
                server.Close();
            }
            await Task.WhenAll(Pump(client.GetStream(), true), Pump(server.GetStream(), false));
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(10)); } catch { }
    }
}
