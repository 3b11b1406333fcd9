using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Server;

namespace SecureFtp.ClientProxy
{
    /// <summary>SafeTP's client proxy (the SafeTP paper, s.3.1): unmodified legacy FTP clients connect to it in cleartext
    /// on the local machine; it connects upstream exactly as Connect-SecureFtp would (same mechanisms, policy, trust
    /// store), holds the legacy client's USER and PASS until the server is verified, and relays every command and every
    /// data connection, protected upstream and clear only on the loopback side. Each legacy session is independent.</summary>
    public sealed class SecureFtpClientProxy : IDisposable
    {
        private readonly ConcurrentDictionary<long, Task> _sessions = new ConcurrentDictionary<long, Task>();
        private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new ConcurrentDictionary<IPAddress, int>();
        private Socket? _listener;
        private Task? _acceptLoop;
        private CancellationTokenSource? _stop;
        private long _nextSessionId;
        internal long SessionsAccepted;
        internal long SessionsRefused;
        internal long Refusals;
        internal long BytesToClients;
        internal long BytesFromClients;
        internal long Transfers;
        internal long TransfersFailed;

        public SecureFtpClientProxy(ClientProxyOptions options)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
        }

        public ClientProxyOptions Options { get; }

        /// <summary>The port listened on (the free port chosen when the options said 0).</summary>
        public int Port { get; private set; }

        public IPAddress ListenAddress => Options.ListenAddress;

        /// <summary>The fixed upstream, or null (routing by USER name@host, or transparent).</summary>
        public string? Upstream => Options.Upstream;

        /// <summary>"Fixed", "UserAtHost" or "Transparent".</summary>
        public string Mode => Options.Transparent ? "Transparent" : Options.Upstream != null ? "Fixed" : "UserAtHost";

        public bool IsRunning => _stop != null && !_stop.IsCancellationRequested;
        public DateTimeOffset? StartTime { get; private set; }

        /// <summary>Legacy sessions open now.</summary>
        public int ActiveSessions => _sessions.Count;

        /// <summary>Legacy connections accepted since start (refused ones included).</summary>
        public long TotalSessions => Interlocked.Read(ref SessionsAccepted);

        /// <summary>Sessions the proxy refused to carry upstream: an untrusted or changed key, a failed certificate
        /// check, no acceptable mechanism, too many connections.</summary>
        public long RefusedSessions => Interlocked.Read(ref Refusals);

        /// <summary>Bytes the proxy delivered to legacy clients on data connections.</summary>
        public long BytesDownloaded => Interlocked.Read(ref BytesToClients);

        /// <summary>Bytes legacy clients sent on data connections.</summary>
        public long BytesUploaded => Interlocked.Read(ref BytesFromClients);

        public long TransfersCompleted => Interlocked.Read(ref Transfers);
        public long TransfersAborted => Interlocked.Read(ref TransfersFailed);

        /// <summary>Checks the options, binds the listener and starts accepting in the background.</summary>
        public Task StartAsync(CancellationToken ct = default)
        {
            if (_stop != null) throw new InvalidOperationException("The proxy was already started.");
            if (Options.Upstream != null) ProxyTarget.Parse(Options.Upstream, Options.Client.EffectivePort); // a bad value fails now, not per session
            if (Options.Transparent && !TransparentRouting.IsSupported)
                throw new FtpException(FtpErrorKind.NotSupported, "TransparentNotSupported", "Transparent mode needs Linux (SO_ORIGINAL_DST of a firewall REDIRECT).");
            if (Options.Transparent && Options.Upstream != null)
                throw new FtpException(FtpErrorKind.Protocol, "ProxyModeInvalid", "Transparent mode sends each connection to its original destination; give no Upstream with it.");
            if (Options.MaxSessions < 1 || Options.MaxSessionsPerAddress < 1)
#pragma warning disable CA2208 // the bad values are in the Options the proxy was built with: that is what the caller must fix
                throw new ArgumentException("MaxSessions and MaxSessionsPerAddress must be at least 1.", nameof(Options));
#pragma warning restore CA2208
            var socket = new Socket(Options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(Options.ListenAddress, Options.Port));
                socket.Listen(64);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new FtpException(FtpErrorKind.Connection, "ProxyBindFailed", $"Cannot listen on {Options.ListenAddress}:{Options.Port}: {e.Message}", inner: e);
            }
            _listener = socket;
            Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            var stop = new CancellationTokenSource();
            _stop = stop;
            StartTime = DateTimeOffset.Now;
            _acceptLoop = Task.Run(() => AcceptLoopAsync(socket, stop.Token), CancellationToken.None);
            Log(0, null, ClientProxyLogKind.Info, $"Client proxy listening on {Options.ListenAddress}:{Port} ({Mode}{(Options.Upstream != null ? " to " + Options.Upstream : "")}).");
            return Task.CompletedTask;
        }

        /// <summary>Stops listening and ends every session (the legacy clients get 421).</summary>
        public async Task StopAsync()
        {
            var stop = _stop;
            if (stop == null || stop.IsCancellationRequested) return;
            stop.Cancel();
            try { _listener?.Dispose(); } catch (Exception) { }
            var pending = _sessions.Values.ToList();
            if (_acceptLoop != null) pending.Add(_acceptLoop);
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
            Log(0, null, ClientProxyLogKind.Info, "Client proxy stopped.");
        }

        private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                Socket client;
                try
                {
#if NET
                    client = await listener.AcceptAsync(CancellationToken.None).ConfigureAwait(false); // stopping the listener ends the wait
#else
                    client = await listener.AcceptAsync().ConfigureAwait(false);
#endif
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    if (ct.IsCancellationRequested) return;
                    Log(0, null, ClientProxyLogKind.Warning, "Accept failed: " + e.Message);
                    continue;
                }
                long id = Interlocked.Increment(ref _nextSessionId);
                Interlocked.Increment(ref SessionsAccepted);
                var task = RunSessionAsync(id, client, ct);
                _sessions[id] = task;
                _ = task.ContinueWith(_ => _sessions.TryRemove(id, out Task? _), TaskScheduler.Default);
            }
        }

        private async Task RunSessionAsync(long id, Socket client, CancellationToken ct)
        {
            await Task.Yield();
            var remote = (IPEndPoint)client.RemoteEndPoint!;
            var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            int fromHere = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
            try
            {
                string? refusal = _sessions.Count > Options.MaxSessions ? $"{Options.MaxSessions} sessions already open"
                    : fromHere > Options.MaxSessionsPerAddress ? $"{Options.MaxSessionsPerAddress} sessions already open from {address}" : null;
                if (refusal != null)
                {
                    Interlocked.Increment(ref Refusals);
                    Log(id, remote.ToString(), ClientProxyLogKind.Refusal, "Refused: " + refusal + ".");
                    using (client)
                        try { client.Send(Encoding.ASCII.GetBytes("421 Too many connections; try again later.\r\n")); } catch (SocketException) { }
                    return;
                }
                Log(id, remote.ToString(), ClientProxyLogKind.Info, $"Connection from {remote}.");
                using var session = new ClientProxySession(this, id, client);
                try
                {
                    await session.RunAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Log(id, remote.ToString(), ClientProxyLogKind.Error, $"Session ended by an unexpected error: {e.GetType().Name}: {e.Message}");
                }
                Log(id, remote.ToString(), ClientProxyLogKind.Info, "Connection closed.");
            }
            finally
            {
                _perAddress.AddOrUpdate(address, 0, (_, n) => n - 1);
                if (_perAddress.TryGetValue(address, out int left) && left <= 0) _perAddress.TryRemove(address, out _);
            }
        }

        internal void Log(long sessionId, string? client, ClientProxyLogKind kind, string message)
        {
            var log = Options.Log;
            if (log == null) return;
            try { log(new ClientProxyLogEntry(DateTimeOffset.Now, sessionId, client, kind, message)); }
            catch (Exception) { /* a failing log callback must not take a session down */ }
        }

        public void Dispose()
        {
            StopAsync().GetAwaiter().GetResult();
            _stop?.Dispose();
        }
    }
}
