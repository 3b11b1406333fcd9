using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

using SecureFtp.Security;

namespace SecureFtp.Server
{
    /// <summary>An FTP server that runs in the background of the process: the embedded file server
    /// (<see cref="SecureFtpServerOptions.Root"/>) or SafeTP's server proxy in front of a legacy ftpd
    /// (<see cref="SecureFtpServerOptions.Upstream"/>, the SafeTP paper, s.3.2). Both offer TLS (AUTH TLS/SSL, implicit)
    /// and plain RFC 959 as the options allow.</summary>
    public sealed class SecureFtpServer : IDisposable
    {
        private readonly ConcurrentDictionary<long, Task> _sessions = new ConcurrentDictionary<long, Task>();
        private readonly List<Socket> _listeners = new List<Socket>();
        private readonly List<Task> _acceptLoops = new List<Task>();
        private CancellationTokenSource? _stop;
        private RootFileSystem? _fileSystem;
        private UpstreamEndPoint? _upstream;
        private ConnectionLimiter? _limiter;
        private LoginThrottle? _throttle;
        private long _nextSessionId;
        private long _connectionsAccepted;

        public SecureFtpServer(SecureFtpServerOptions options)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
        }

        public SecureFtpServerOptions Options { get; }

        /// <summary>"Root" or "Upstream".</summary>
        public string Mode => Options.Upstream != null ? "Upstream" : "Root";

        /// <summary>The control port actually listened on (the free port chosen when <see cref="SecureFtpServerOptions.Port"/> was 0).</summary>
        public int Port { get; private set; }

        /// <summary>The implicit-TLS port actually listened on, or null when there is no implicit listener.</summary>
        public int? ImplicitTlsPort { get; private set; }

        public IPAddress ListenAddress => Options.ListenAddress;
        public bool IsRunning => _stop != null && !_stop.IsCancellationRequested;
        public DateTimeOffset? StartTime { get; private set; }

        /// <summary>Control connections open now.</summary>
        public int ActiveSessions => _sessions.Count;

        /// <summary>Control connections accepted since start.</summary>
        public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

        /// <summary>Checks the options, binds the listeners and starts accepting in the background.</summary>
        public Task StartAsync(CancellationToken ct = default)
        {
            if (_stop != null) throw new InvalidOperationException("The server was already started.");
            ValidateOptions();
            _limiter = new ConnectionLimiter(Options.MaxConnections, Options.MaxConnectionsPerAddress);
            _throttle = new LoginThrottle(Options);
            var stop = new CancellationTokenSource();
            try
            {
                var main = Bind(Options.Port);
                Port = ((IPEndPoint)main.LocalEndPoint!).Port;
                Socket? implicitListener = null;
                if (Options.ImplicitTlsPort != null)
                {
                    implicitListener = Bind(Options.ImplicitTlsPort.Value);
                    ImplicitTlsPort = ((IPEndPoint)implicitListener.LocalEndPoint!).Port;
                }
                _stop = stop;
                StartTime = DateTimeOffset.Now;
                _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(main, implicitTls: false, stop.Token), CancellationToken.None));
                if (implicitListener != null)
                    _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(implicitListener, implicitTls: true, stop.Token), CancellationToken.None));
            }
            catch (SocketException e)
            {
                CloseListeners();
                stop.Dispose();
                throw new FtpException(FtpErrorKind.Connection, "ServerBindFailed", $"Cannot listen on {Options.ListenAddress}:{Options.Port}: {e.Message}", inner: e);
            }
            Log(0, null, SecureFtpServerLogKind.Info, $"{Mode} server listening on {Options.ListenAddress}:{Port}"
                + (ImplicitTlsPort != null ? $", implicit TLS on port {ImplicitTlsPort}" : "")
                + (Options.Upstream != null ? $", forwarding to {Options.Upstream}" : $", serving {_fileSystem!.RootDirectory}") + ".");
            return Task.CompletedTask;
        }

        /// <summary>Stops listening, closes every session (they get 421) and waits for them to end.</summary>
        public async Task StopAsync()
        {
            var stop = _stop;
            if (stop == null || stop.IsCancellationRequested) return;
            stop.Cancel();
            CloseListeners();
            var pending = _acceptLoops.Concat(_sessions.Values).ToArray();
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
            Log(0, null, SecureFtpServerLogKind.Info, "Server stopped.");
        }

        private void ValidateOptions()
        {
            if ((Options.Root == null) == (Options.Upstream == null))
                throw new FtpException(FtpErrorKind.Protocol, "ServerModeInvalid", "Give either Root (a directory to serve) or Upstream (host:port of an ftpd), not both and not neither.");
            if (Options.Root != null) _fileSystem = new RootFileSystem(Options.Root);
            else _upstream = UpstreamEndPoint.Parse(Options.Upstream!);
            if (Options.Certificate != null && !Options.Certificate.HasPrivateKey)
                throw new FtpException(FtpErrorKind.Security, "CertificateWithoutKey", $"The server certificate '{Options.Certificate.Subject}' has no private key.");
            if (Options.ImplicitTlsPort != null && Options.Certificate == null)
                throw new FtpException(FtpErrorKind.Security, "CertificateRequired", "Implicit TLS needs a server certificate (Certificate).");
            foreach (var name in Options.Mechanisms)
            {
                var mechanism = ServerMechanisms.Resolve(Options, name);
                if (mechanism.Kind == ServerMechanismKind.Tls && Options.Certificate == null)
                    throw new FtpException(FtpErrorKind.Security, "CertificateRequired", $"Mechanism {mechanism.Name.AuthName} needs a server certificate (Certificate); use SecureFtpServer.CreateSelfSignedCertificate for a demo.");
                if (mechanism.Kind == ServerMechanismKind.Rfc2228 && ServerMechanisms.Rfc2228Factory(Options, mechanism) == null)
                    throw new FtpException(FtpErrorKind.NotSupported, "MechanismUnknown", $"Mechanism {mechanism.Name.AuthName} has no server half configured: give its key ({nameof(SecureFtpServerOptions.AddSafeTp)}, {nameof(SecureFtpServerOptions.AddKea)}, or {nameof(SecureFtpServerOptions.AddRfc2228Mechanism)}).");
            }
            if (!Options.AllowInsecure && Options.Mechanisms.Count == 0)
                throw new FtpException(FtpErrorKind.Policy, "NoWayIn", "With no security mechanism and AllowInsecure off, nobody but anonymous could log in.");
        }

        private Socket Bind(int port)
        {
            var socket = new Socket(Options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(Options.ListenAddress, port));
                // The backlog holds connections between accepts; a burst of clients (200 at once) must not overflow it.
                socket.Listen(Math.Max(64, Math.Min(Options.MaxConnections, 1024)));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            lock (_listeners) _listeners.Add(socket);
            return socket;
        }

        private void CloseListeners()
        {
            lock (_listeners)
            {
                foreach (var listener in _listeners)
                    try { listener.Dispose(); } catch (Exception) { }
                _listeners.Clear();
            }
        }

        private async Task AcceptLoopAsync(Socket listener, bool implicitTls, CancellationToken ct)
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
                    Log(0, null, SecureFtpServerLogKind.Warning, "Accept failed: " + e.Message);
                    continue;
                }
                long id = Interlocked.Increment(ref _nextSessionId);
                Interlocked.Increment(ref _connectionsAccepted);
                if (!Admit(id, client, implicitTls, out var address)) continue;
                var task = RunSessionAsync(id, client, address, implicitTls, ct);
                _sessions[id] = task;
                _ = task.ContinueWith(_ => _sessions.TryRemove(id, out Task? _), TaskScheduler.Default);
            }
        }

        /// <summary>Decides on the accept loop, before any work is spent on the connection: over the server's or the
        /// address's connection limit, or from an address that used up its failed-login budget, the client gets 421
        /// with the reason and is closed. Implicit-TLS clients are closed without a reply (they expect a handshake, and
        /// answering one would cost the server the work the limit saves).</summary>
        private bool Admit(long id, Socket client, bool implicitTls, out IPAddress address)
        {
            string remote = client.RemoteEndPoint?.ToString() ?? "?";
            address = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            string? refusal = _throttle!.RefusalForAddress(address);
            if (refusal == null)
            {
                refusal = _limiter!.TryAdmit(address);
                if (refusal == null) return true;
            }
            Log(id, remote, SecureFtpServerLogKind.Warning, "Refused: " + refusal);
            try
            {
                if (!implicitTls)
                {
                    client.Blocking = false;
                    client.Send(System.Text.Encoding.ASCII.GetBytes("421 " + refusal + "\r\n"));
                    client.Shutdown(SocketShutdown.Both);
                }
            }
            catch (SocketException) { }
            client.Dispose();
            return false;
        }

        private async Task RunSessionAsync(long id, Socket client, IPAddress address, bool implicitTls, CancellationToken ct)
        {
            await Task.Yield();
            string remote = client.RemoteEndPoint?.ToString() ?? "?";
            Action<SecureFtpServerLogKind, string> log = (kind, message) => Log(id, remote, kind, message);
            try
            {
                log(SecureFtpServerLogKind.Info, $"Connection from {remote}{(implicitTls ? " (implicit TLS)" : "")}.");
                IFtpCommandHandler handler = _upstream != null
                    ? new UpstreamCommandHandler(Options, _upstream, log)
                    : new RootCommandHandler(Options, _fileSystem!);
                using var session = new FtpServerSession(client, Options, handler, _throttle!, log);
                try
                {
                    await session.RunAsync(implicitTls, ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    log(SecureFtpServerLogKind.Error, $"Session ended by an unexpected error: {e.GetType().Name}: {e.Message}");
                }
                log(SecureFtpServerLogKind.Info, "Connection closed.");
            }
            finally
            {
                try { client.Dispose(); } catch (Exception) { }
                _limiter!.Release(address);
            }
        }

        private void Log(long sessionId, string? remote, SecureFtpServerLogKind kind, string message)
        {
            var log = Options.Log;
            if (log == null) return;
            try { log(new SecureFtpServerLogEntry(DateTimeOffset.Now, sessionId, remote, kind, message)); }
            catch (Exception) { /* a failing log callback must not take a session down */ }
        }

        /// <summary>Makes a self-signed RSA certificate (with private key) for <paramref name="hostName"/> and
        /// 127.0.0.1, valid from yesterday for <paramref name="validDays"/> days: for demos and tests only,
        /// clients must pin it or skip the check.</summary>
        public static X509Certificate2 CreateSelfSignedCertificate(string hostName = "localhost", int validDays = 365)
            => SelfSignedCertificate.Create(hostName, validDays);

        public void Dispose()
        {
            StopAsync().GetAwaiter().GetResult();
            _stop?.Dispose();
        }
    }

    /// <summary>"host:port" or "[v6]:port" of the legacy ftpd.</summary>
    internal sealed class UpstreamEndPoint
    {
        private UpstreamEndPoint(string host, int port)
        {
            Host = host;
            Port = port;
        }

        public string Host { get; }
        public int Port { get; }

        public static UpstreamEndPoint Parse(string text)
        {
            string value = text.Trim();
            int colon = value.LastIndexOf(':');
            if (colon > 0 && int.TryParse(value.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port > 0 && port < 65536)
            {
                string host = value.Substring(0, colon);
                if (host.StartsWith("[", StringComparison.Ordinal) && host.EndsWith("]", StringComparison.Ordinal)) host = host.Substring(1, host.Length - 2);
                if (host.Length > 0 && host.IndexOf(':') < 0 || IPAddress.TryParse(host, out _))
                    return new UpstreamEndPoint(host, port);
            }
            throw new FtpException(FtpErrorKind.Protocol, "UpstreamInvalid", $"Upstream '{text}' is not host:port (use [address]:port for IPv6).");
        }

        public override string ToString() => Host.IndexOf(':') >= 0 ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
    }
}
