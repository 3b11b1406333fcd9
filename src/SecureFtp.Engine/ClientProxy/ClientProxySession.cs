using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Server;

namespace SecureFtp.ClientProxy
{
    /// <summary>One legacy client: its cleartext control connection on the local side, and the secured session the
    /// engine holds upstream for it. The legacy client sees the server's own greeting and replies (the SafeTP paper,
    /// s.3: the proxy hides itself); only the data-connection set-up is answered by the proxy, because the legacy
    /// client's data connections end here.</summary>
    internal sealed class ClientProxySession : IDisposable
    {
        private const int RelayBufferSize = 256 * 1024;

        /// <summary>RFC 2228 and RFC 4217 commands: the security is the proxy's business upstream, never the legacy client's.</summary>
        private static readonly HashSet<string> SecurityVerbs = new HashSet<string>(StringComparer.Ordinal)
            { "AUTH", "ADAT", "MIC", "CONF", "ENC", "CCC", "PBSZ", "PROT", "REIN" };

        private static readonly HashSet<string> DownloadVerbs = new HashSet<string>(StringComparer.Ordinal) { "RETR", "LIST", "NLST", "MLSD" };
        private static readonly HashSet<string> UploadVerbs = new HashSet<string>(StringComparer.Ordinal) { "STOR", "STOU", "APPE" };

        /// <summary>FEAT lines that describe the upstream security, which the legacy client must not try to use.</summary>
        private static readonly string[] HiddenFeatures = { "AUTH", "ADAT", "PBSZ", "PROT", "CCC", "MIC", "CONF", "ENC" };

        private readonly SecureFtpClientProxy _proxy;
        private readonly ClientProxyOptions _options;
        private readonly long _id;
        private readonly Socket _socket;
        private readonly ServerControlChannel _control;
        private readonly string _clientName;
        private FtpClient? _upstream;
        private string? _upstreamName;
        private bool _loggedIn;
        private Socket? _passiveListener;
        private IPEndPoint? _activeTarget;
        private long _restartAt;
        private Task<string?>? _pendingLine;

        public ClientProxySession(SecureFtpClientProxy proxy, long id, Socket socket)
        {
            _proxy = proxy;
            _options = proxy.Options;
            _id = id;
            _socket = socket;
            _control = new ServerControlChannel(socket);
            _clientName = socket.RemoteEndPoint?.ToString() ?? "?";
        }

        private IPAddress ClientAddress => Normalize(_control.RemoteEndPoint.Address);

        private void Log(ClientProxyLogKind kind, string message) => _proxy.Log(_id, _clientName, kind, message);

        public async Task RunAsync(CancellationToken stop)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var ct = cts.Token;
            // The login deadline: a client that connects and never logs in holds a slot and, routed, an upstream session.
            using var loginDeadline = new Timer(_ =>
            {
                if (_loggedIn) return;
                Log(ClientProxyLogKind.Warning, $"No login within {_options.LoginTimeout.TotalSeconds:0} s; closed.");
                _ = SendAndCloseAsync("421 Login timed out; closing the connection.", cts);
            }, null, _options.LoginTimeout, Timeout.InfiniteTimeSpan);
            using var stopped = stop.Register(() => _ = SendAndCloseAsync("421 Service shutting down.", cts));
            try
            {
                if (!await GreetAsync(ct).ConfigureAwait(false)) return;
                while (!ct.IsCancellationRequested)
                {
                    string? line = await NextLineAsync(ct).ConfigureAwait(false);
                    if (line == null) return;
                    if (!await HandleAsync(line, ct).ConfigureAwait(false)) return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
                                      || e is FtpException { ErrorId: "CommandLineTooLong" })
            {
                if (e is FtpException) await TrySendAsync("500 Command line too long.").ConfigureAwait(false);
                Log(ClientProxyLogKind.Info, "Legacy connection ended: " + e.Message);
            }
            catch (UpstreamLostException e)
            {
                Log(ClientProxyLogKind.Warning, e.Message);
                await TrySendAsync(Format(421, e.Message)).ConfigureAwait(false);
            }
            finally
            {
                ClosePassive();
                if (_upstream != null)
                {
                    try { await _upstream.DisconnectAsync(CancellationToken.None).ConfigureAwait(false); } catch (Exception) { }
                    _upstream.Dispose();
                }
            }
        }

        // ---- greeting and routing ----

        private async Task<bool> GreetAsync(CancellationToken ct)
        {
            ProxyTarget? target = null;
            if (_options.Transparent)
            {
                var original = TransparentRouting.OriginalDestination(_socket);
                if (original == null)
                {
                    Interlocked.Increment(ref _proxy.Refusals);
                    Log(ClientProxyLogKind.Refusal, "Not a redirected connection: no original destination.");
                    await SendAsync(Format(421, "This connection was not redirected to the transparent proxy by the firewall; connect to the server itself.")).ConfigureAwait(false);
                    return false;
                }
                target = ProxyTarget.Parse(original.Address + ":" + original.Port, 21);
            }
            else if (_options.Upstream != null)
                target = ProxyTarget.Parse(_options.Upstream, _options.Client.EffectivePort);

            if (target == null)
            {
                await SendAsync(Format(220, "FTP proxy ready. Log in as USER name@host[:port].")).ConfigureAwait(false);
                return true;
            }
            string? refusal = await ConnectUpstreamAsync(target, ct).ConfigureAwait(false);
            if (refusal != null)
            {
                await SendAsync(Format(421, refusal)).ConfigureAwait(false);
                return false;
            }
            await SendAsync(ServerControlChannel.FormatReply(220, Clean(_upstream!.GreetingLines))).ConfigureAwait(false);
            return true;
        }

        /// <summary>Connects and secures the upstream session the engine's way; returns why it was refused, or null.</summary>
        private async Task<string?> ConnectUpstreamAsync(ProxyTarget target, CancellationToken ct)
        {
            var options = _options.Client.Clone();
            options.Host = target.Host;
            options.Port = target.Port;
            options.Credential = null;
            // A proxy has no user to ask: an unknown key is refused unless AcceptNewKey (trust on first use).
            options.ConfirmNewKey = null;
            var template = _options.Client;
            options.Warning = m => { Log(ClientProxyLogKind.Warning, $"{target}: {m}"); template.Warning?.Invoke(m); };
            _upstreamName = target.ToString();
            try
            {
                _upstream = await FtpClient.ConnectSecuredForRelayAsync(options, ct).ConfigureAwait(false);
                Log(ClientProxyLogKind.Info, $"Upstream {target}: {_upstream.Security}.");
                return null;
            }
            catch (Exception e) when (e is FtpException or IOException or SocketException or ArgumentException)
            {
                Interlocked.Increment(ref _proxy.Refusals);
                string? advice = e is FtpException refused ? _options.Advice?.Invoke(refused.ErrorId) : null;
                string why = $"The secure FTP proxy did not connect you to {target}: {e.Message}" + (advice != null ? " " + advice : "");
                Log(ClientProxyLogKind.Refusal, why);
                return why;
            }
        }

        // ---- the command loop ----

        /// <summary>The next command line, under the idle timeout. A line read during a transfer (to catch ABOR) and
        /// not consumed there is returned here first.</summary>
        private async Task<string?> NextLineAsync(CancellationToken ct)
        {
            var pending = _pendingLine ??= _control.ReadLineAsync(ct);
            var done = await Task.WhenAny(pending, Task.Delay(_options.IdleTimeout, ct)).ConfigureAwait(false);
            if (done != pending)
            {
                ct.ThrowIfCancellationRequested();
                await TrySendAsync("421 Idle timeout; closing the connection.").ConfigureAwait(false);
                return null;
            }
            _pendingLine = null;
            return await pending.ConfigureAwait(false);
        }

        /// <returns>False when the session is over.</returns>
        private async Task<bool> HandleAsync(string line, CancellationToken ct)
        {
            if (line.IndexOf('\r') >= 0 || line.IndexOf('\0') >= 0)
            {
                await SendAsync("500 A command line may not contain CR or NUL.").ConfigureAwait(false);
                return true;
            }
            string verb = FtpCommand.Verb(line);
            string argument = line.Length > verb.Length ? line.Substring(verb.Length).TrimStart(' ') : "";
            if (verb != "REST" && !DownloadVerbs.Contains(verb) && !UploadVerbs.Contains(verb)) _restartAt = 0;
            switch (verb)
            {
                case "USER": await UserAsync(argument, ct).ConfigureAwait(false); return true;
                case "PASS":
                case "ACCT": await LoginStepAsync(line, ct).ConfigureAwait(false); return true;
                case "QUIT":
                    if (_upstream != null)
                    {
                        var replies = await UpstreamAsync(u => u.RelayCommandAsync("QUIT", ct)).ConfigureAwait(false);
                        await ForwardAsync(replies).ConfigureAwait(false);
                    }
                    else await SendAsync("221 Goodbye.").ConfigureAwait(false);
                    return false;
                case "PASV": await PassiveAsync(extended: false, argument).ConfigureAwait(false); return true;
                case "EPSV": await PassiveAsync(extended: true, argument).ConfigureAwait(false); return true;
                case "PORT": await ActiveAsync(ServerDataChannel.ParseHostPort(argument), "PORT").ConfigureAwait(false); return true;
                case "EPRT": await ActiveAsync(ServerDataChannel.ParseExtendedAddress(argument), "EPRT").ConfigureAwait(false); return true;
                case "LPRT":
                case "LPSV": await SendAsync($"502 {verb} is not offered; use PASV, EPSV, PORT or EPRT.").ConfigureAwait(false); return true;
                case "REST":
                    if (!long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
                        await SendAsync("501 REST needs a byte offset.").ConfigureAwait(false);
                    else
                    {
                        // Held here and sent right before the transfer command (RFC 959 s.4.1.3: nothing may come between).
                        _restartAt = offset;
                        await SendAsync($"350 Restarting at {offset}. Send STORE or RETRIEVE to initiate transfer.").ConfigureAwait(false);
                    }
                    return true;
                case "ABOR":
                    if (_upstream == null) { await SendAsync("225 No transfer to abort.").ConfigureAwait(false); return true; }
                    break;
                case "FEAT":
                    if (_upstream == null) break;
                    var feat = await UpstreamAsync(u => u.RelayCommandAsync("FEAT", ct)).ConfigureAwait(false);
                    await ForwardAsync(feat.Select(HideSecurityFeatures).ToList()).ConfigureAwait(false);
                    return true;
            }
            if (SecurityVerbs.Contains(verb))
            {
                // The legacy side is loopback and cleartext by design; the upstream side is protected by the proxy.
                await SendAsync($"502 {verb} is not available here: this connection is secured by the local FTP proxy.").ConfigureAwait(false);
                return true;
            }
            if (_upstream == null)
            {
                await SendAsync("530 Please log in with USER name@host[:port] and PASS.").ConfigureAwait(false);
                return true;
            }
            if (DownloadVerbs.Contains(verb) || UploadVerbs.Contains(verb))
            {
                await TransferAsync(verb, line, ct).ConfigureAwait(false);
                return true;
            }
            var replies2 = await UpstreamAsync(u => u.RelayCommandAsync(line, ct)).ConfigureAwait(false);
            await ForwardAsync(replies2).ConfigureAwait(false);
            return true;
        }

        private async Task UserAsync(string argument, CancellationToken ct)
        {
            string name = argument;
            bool routed = _options.Upstream == null && !_options.Transparent;
            if (routed)
            {
                // Routed by the legacy client: USER name@host[:port], the convention of FTP proxies. The '@' is the last
                // one: anonymous users give an e-mail address as their name.
                int at = argument.LastIndexOf('@');
                var target = at > 0 ? ProxyTarget.TryParse(argument.Substring(at + 1), _options.Client.EffectivePort) : null;
                if (target == null)
                {
                    await SendAsync("530 This FTP proxy needs USER name@host[:port] (the server to connect to follows the '@').").ConfigureAwait(false);
                    return;
                }
                name = argument.Substring(0, at);
                if (_upstream != null && _upstreamName == target.ToString() && _upstream.IsConnected)
                {
                    // Another USER to the same server (after a wrong password, say): the secured session goes on.
                    await LoginStepAsync("USER " + name, ct).ConfigureAwait(false);
                    return;
                }
                if (_upstream != null)
                {
                    // Another server: the session with the first one ends before anything is sent to the second.
                    try { await _upstream.DisconnectAsync(CancellationToken.None).ConfigureAwait(false); } catch (Exception) { }
                    _upstream.Dispose();
                    _upstream = null;
                    _loggedIn = false;
                    ClosePassive();
                    _activeTarget = null;
                }
                string? refusal = await ConnectUpstreamAsync(target, ct).ConfigureAwait(false);
                if (refusal != null)
                {
                    await SendAsync(Format(530, refusal)).ConfigureAwait(false);
                    return;
                }
            }
            await LoginStepAsync("USER " + name, ct).ConfigureAwait(false);
        }

        /// <summary>USER, PASS or ACCT, sent on the secured upstream session only: the upstream key or certificate was
        /// verified before the first of them left.</summary>
        private async Task LoginStepAsync(string line, CancellationToken ct)
        {
            if (_upstream == null)
            {
                await SendAsync("503 Log in with USER name@host[:port] first.").ConfigureAwait(false);
                return;
            }
            FtpReply reply;
            try
            {
                reply = await _upstream.RelayLoginAsync(line, ct).ConfigureAwait(false);
            }
            catch (FtpException e) when (e.Kind is FtpErrorKind.Policy or FtpErrorKind.NotSupported && _upstream.IsConnected)
            {
                // Logged in, but the data protection the policy requires was refused: no transfer may happen.
                Interlocked.Increment(ref _proxy.Refusals);
                throw new UpstreamLostException($"{_upstreamName}: {e.Message}");
            }
            catch (Exception e) when (e is FtpException or IOException or SocketException)
            {
                throw new UpstreamLostException($"The connection to {_upstreamName} was lost: {e.Message}");
            }
            if (reply.Code is 230 or 202)
            {
                _loggedIn = true;
                Log(ClientProxyLogKind.Info, $"Logged in to {_upstreamName} as {_upstream.UserName}; data protection {_upstream.DataProtection}.");
            }
            await ForwardAsync(new[] { reply }).ConfigureAwait(false);
        }

        // ---- data connections on the legacy side ----

        private async Task PassiveAsync(bool extended, string argument)
        {
            if (extended && argument.Equals("ALL", StringComparison.OrdinalIgnoreCase))
            {
                await SendAsync("200 EPSV ALL ok.").ConfigureAwait(false);
                return;
            }
            if (_upstream == null)
            {
                await SendAsync("530 Please log in first.").ConfigureAwait(false);
                return;
            }
            ClosePassive();
            _activeTarget = null;
            var local = _control.LocalEndPoint.Address;
            var listener = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // The legacy client's data connection ends here, on the address it reached the proxy at. In transparent
                // mode the firewall sends the client's connection to the server's address and this port here.
                listener.Bind(new IPEndPoint(local, 0));
                listener.Listen(1);
            }
            catch (SocketException e)
            {
                listener.Dispose();
                await SendAsync($"425 Cannot open a passive data port: {e.Message}").ConfigureAwait(false);
                return;
            }
            _passiveListener = listener;
            int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            if (extended)
                await SendAsync($"229 Entering Extended Passive Mode (|||{port}|)").ConfigureAwait(false);
            else
            {
                var announced = Normalize(local);
                if (_options.Transparent && TransparentRouting.OriginalDestination(_socket) is IPEndPoint original) announced = original.Address;
                if (announced.AddressFamily != AddressFamily.InterNetwork)
                {
                    ClosePassive();
                    await SendAsync("522 PASV needs IPv4; use EPSV.").ConfigureAwait(false);
                    return;
                }
                await SendAsync($"227 Entering Passive Mode ({SecureFtp.Data.PassiveReplyParser.FormatPort(new IPEndPoint(announced, port))}).").ConfigureAwait(false);
            }
        }

        private async Task ActiveAsync(IPEndPoint? target, string verb)
        {
            if (target == null)
            {
                await SendAsync($"501 The {verb} argument is not an address and port.").ConfigureAwait(false);
                return;
            }
            if (_upstream == null)
            {
                await SendAsync("530 Please log in first.").ConfigureAwait(false);
                return;
            }
            // Only back to the legacy client itself: no third-party ("bounce") transfers through the proxy (RFC 2228
            // s.3 forbids them with protected data; the SafeTP paper, s.6.6).
            if (!Normalize(target.Address).Equals(ClientAddress) || target.Port < 1024 && target.Port != 20)
            {
                Interlocked.Increment(ref _proxy.Refusals);
                Log(ClientProxyLogKind.Refusal, $"{verb} to {target} refused: not the client's own address {ClientAddress}.");
                await SendAsync($"500 Illegal {verb} command: the data connection must go back to {ClientAddress}, at a port above 1023.").ConfigureAwait(false);
                return;
            }
            ClosePassive();
            _activeTarget = target;
            await SendAsync($"200 {verb} command successful.").ConfigureAwait(false);
        }

        private void ClosePassive()
        {
            try { _passiveListener?.Dispose(); } catch (Exception) { }
            _passiveListener = null;
        }

        /// <summary>The legacy client's data connection: accepted on the passive port (from the client's own address
        /// only), or made to its PORT/EPRT address.</summary>
        private async Task<Socket> OpenLegacyDataAsync(CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.DataTimeout);
            if (_passiveListener != null)
            {
                var listener = _passiveListener;
                _passiveListener = null;
                using (listener)
                using (cts.Token.Register(() => { try { listener.Dispose(); } catch (Exception) { } }))
                {
                    while (true)
                    {
                        Socket socket;
#if NET
                        try { socket = await listener.AcceptAsync(CancellationToken.None).ConfigureAwait(false); } // cancelling stops the listener
#else
                        try { socket = await listener.AcceptAsync().ConfigureAwait(false); }
#endif
                        catch (Exception e) when (cts.IsCancellationRequested && e is SocketException or ObjectDisposedException)
                        {
                            ct.ThrowIfCancellationRequested();
                            throw new TimeoutException($"The client did not open its data connection within {_options.DataTimeout.TotalSeconds:0} s.");
                        }
                        var from = Normalize(((IPEndPoint)socket.RemoteEndPoint!).Address);
                        if (from.Equals(ClientAddress)) return Tune(socket);
                        // Port theft: someone else raced the client to its data port.
                        Log(ClientProxyLogKind.Refusal, $"Data connection from {from} refused: the client is {ClientAddress}.");
                        socket.Dispose();
                    }
                }
            }
            var target = _activeTarget ?? throw new InvalidOperationException("No data connection was set up.");
            var active = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await SocketConnector.ConnectSocketAsync(active, target, _options.DataTimeout, ct).ConfigureAwait(false);
                return Tune(active);
            }
            catch
            {
                active.Dispose();
                throw;
            }
        }

        private static Socket Tune(Socket socket)
        {
            socket.NoDelay = true;
            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 1 << 20);
            socket.SendBufferSize = Math.Max(socket.SendBufferSize, 1 << 20);
            return socket;
        }

        // ---- transfers ----

        private enum Outcome { Completed, UpstreamFailed, ClientFailed, Aborted }

        /// <summary>A transfer command: the engine opens the protected upstream data connection and sends the command;
        /// the proxy relays between it and the legacy client's clear loopback connection. The server's completion
        /// reply reaches the legacy client only when the data was whole and verified (a download's end is held back
        /// until then); a cut upstream transfer becomes 426 and a reset data connection, never 226.</summary>
        private async Task TransferAsync(string verb, string line, CancellationToken ct)
        {
            long restartAt = _restartAt;
            _restartAt = 0;
            if (_passiveListener == null && _activeTarget == null)
            {
                await SendAsync("425 Use PORT, EPRT, PASV or EPSV first.").ConfigureAwait(false);
                return;
            }
            bool download = DownloadVerbs.Contains(verb);
            FtpClient.RelayDataTransfer upstream;
            try
            {
                upstream = await _upstream!.OpenRelayTransferAsync(line, restartAt, ct).ConfigureAwait(false);
            }
            catch (FtpException e) when (e.Reply != null && _upstream!.IsConnected)
            {
                ClosePassive();
                await ForwardAsync(new[] { e.Reply }).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is FtpException or IOException or SocketException)
            {
                ClosePassive();
                if (!_upstream!.IsConnected) throw new UpstreamLostException($"The connection to {_upstreamName} was lost: {e.Message}");
                Interlocked.Increment(ref _proxy.TransfersFailed);
                await SendAsync(Format(425, $"The protected data connection to {_upstreamName} failed: {e.Message}")).ConfigureAwait(false);
                return;
            }
            using (upstream)
            {
                if (upstream.CompletedEarly)
                {
                    ClosePassive();
                    await SendAsync("226 Transfer complete.").ConfigureAwait(false);
                    return;
                }
                await ForwardAsync(new[] { upstream.Preliminary! }).ConfigureAwait(false);

                Socket legacy;
                try
                {
                    legacy = await OpenLegacyDataAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or TimeoutException or FtpException or ObjectDisposedException)
                {
                    await upstream.AbortAsync().ConfigureAwait(false);
                    Interlocked.Increment(ref _proxy.TransfersFailed);
                    await SendAsync(Format(425, "Cannot open data connection: " + e.Message)).ConfigureAwait(false);
                    return;
                }
                using (legacy)
                {
                    using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var pump = download ? DownloadAsync(upstream, legacy, abort.Token) : UploadAsync(upstream, legacy, abort.Token);
                    // Watch the control connection while data flows: ABOR (RFC 959 s.4.1.3) stops the transfer at once.
                    var next = _pendingLine ??= _control.ReadLineAsync(ct);
                    var first = await Task.WhenAny(pump, next).ConfigureAwait(false);
                    bool aborted = false;
                    if (first == next && next.Status == TaskStatus.RanToCompletion && (next.Result == null || FtpCommand.Verb(next.Result) == "ABOR"))
                    {
                        aborted = true;
                        if (next.Result != null) _pendingLine = null;
                        abort.Cancel();
                    }
                    (Outcome outcome, string? why) = await pump.ConfigureAwait(false);
                    if (aborted && outcome != Outcome.Completed) outcome = Outcome.Aborted;
                    await FinishAsync(upstream, legacy, download, outcome, why, aborted, ct).ConfigureAwait(false);
                }
            }
        }

        private async Task FinishAsync(FtpClient.RelayDataTransfer upstream, Socket legacy, bool download, Outcome outcome, string? why, bool aborted, CancellationToken ct)
        {
            if (outcome != Outcome.Completed)
            {
                Reset(legacy);
                await upstream.AbortAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _proxy.TransfersFailed);
                Log(ClientProxyLogKind.Warning, $"Transfer {outcome}: {why}");
                if (!_upstream!.IsConnected && outcome != Outcome.Aborted) throw new UpstreamLostException($"The connection to {_upstreamName} was lost: {why}");
                await SendAsync(Format(426, "Connection closed; transfer aborted" + (why != null ? ": " + why : "."))).ConfigureAwait(false);
                if (aborted) await SendAsync("226 ABOR command successful.").ConfigureAwait(false);
                return;
            }
            FtpReply final;
            try
            {
                // For an upload the legacy client is done: the engine ends the protected stream and reads the server's verdict.
                final = await upstream.CompleteAsync(download, ct).ConfigureAwait(false);
            }
            catch (FtpException e) when (e.Reply != null && _upstream!.IsConnected)
            {
                Reset(legacy);
                Interlocked.Increment(ref _proxy.TransfersFailed);
                await ForwardAsync(new[] { e.Reply }).ConfigureAwait(false);
                if (aborted) await SendAsync("226 ABOR command successful.").ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is FtpException or IOException or SocketException)
            {
                Reset(legacy);
                Interlocked.Increment(ref _proxy.TransfersFailed);
                Log(ClientProxyLogKind.Warning, "Transfer not verified: " + e.Message);
                if (!_upstream!.IsConnected) throw new UpstreamLostException($"The connection to {_upstreamName} was lost: {e.Message}");
                await SendAsync(Format(426, "Transfer aborted: " + e.Message)).ConfigureAwait(false);
                return;
            }
            // Whole and verified: only now does the legacy client see the end of the data, then the server's reply.
            try
            {
                legacy.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException) { }
            Interlocked.Increment(ref _proxy.Transfers);
            await ForwardAsync(new[] { final }).ConfigureAwait(false);
            if (aborted) await SendAsync("226 ABOR command successful.").ConfigureAwait(false);
        }

        private async Task<(Outcome, string?)> DownloadAsync(FtpClient.RelayDataTransfer upstream, Socket legacy, CancellationToken ct)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(RelayBufferSize);
            try
            {
                using var stream = new NetworkStream(legacy, ownsSocket: false);
                while (true)
                {
                    int n;
                    try { n = await upstream.ReadAsync(buffer, ct).ConfigureAwait(false); }
                    catch (Exception e) when (e is FtpException or IOException or OperationCanceledException or ObjectDisposedException)
                    {
                        return (Outcome.UpstreamFailed, e.Message);
                    }
                    if (n == 0) return (Outcome.Completed, null);
                    try { await WriteWithTimeoutAsync(stream, buffer, n, ct).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        return (Outcome.ClientFailed, "the client's data connection failed: " + e.Message);
                    }
                    Interlocked.Add(ref _proxy.BytesToClients, n);
                }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        private async Task<(Outcome, string?)> UploadAsync(FtpClient.RelayDataTransfer upstream, Socket legacy, CancellationToken ct)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(RelayBufferSize);
            try
            {
                using var stream = new NetworkStream(legacy, ownsSocket: false);
                while (true)
                {
                    int n;
                    try { n = await ReadWithTimeoutAsync(stream, buffer, ct).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        return (Outcome.ClientFailed, "the client's data connection failed: " + e.Message);
                    }
                    if (n == 0) return (Outcome.Completed, null);
                    try
                    {
                        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        cts.CancelAfter(_options.Client.DataTimeout);
                        await upstream.Stream.WriteAsync(buffer, 0, n, cts.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is FtpException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        return (Outcome.UpstreamFailed, $"the data connection to {_upstreamName} failed: {e.Message}");
                    }
                    Interlocked.Add(ref _proxy.BytesFromClients, n);
                }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        private async Task WriteWithTimeoutAsync(Stream stream, byte[] buffer, int count, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.DataTimeout);
            await stream.WriteAsync(buffer, 0, count, cts.Token).ConfigureAwait(false);
        }

        private async Task<int> ReadWithTimeoutAsync(Stream stream, byte[] buffer, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.DataTimeout);
            return await stream.ReadAsync(buffer, 0, buffer.Length, cts.Token).ConfigureAwait(false);
        }

        /// <summary>Closes with RST, not FIN: a legacy client must not take a cut transfer for a whole file.</summary>
        private static void Reset(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (Exception) { }
        }

        // ---- upstream calls and replies ----

        private async Task<T> UpstreamAsync<T>(Func<FtpClient, Task<T>> call)
        {
            try
            {
                return await call(_upstream!).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FtpException or IOException or SocketException)
            {
                throw new UpstreamLostException($"The connection to {_upstreamName} was lost: {e.Message}");
            }
        }

        private static FtpReply HideSecurityFeatures(FtpReply reply)
        {
            if (reply.Code != 211 || reply.Lines.Count < 2) return reply;
            var lines = new List<string> { reply.Lines[0] };
            for (int i = 1; i < reply.Lines.Count - 1; i++)
            {
                string feature = reply.Lines[i].Trim();
                string name = FtpCommand.Verb(feature);
                if (!HiddenFeatures.Contains(name)) lines.Add(reply.Lines[i]);
            }
            lines.Add(reply.Lines[reply.Lines.Count - 1]);
            return new FtpReply(reply.Code, lines);
        }

        private Task ForwardAsync(IEnumerable<FtpReply> replies)
        {
            var lines = new List<string>();
            foreach (var reply in replies) lines.AddRange(ServerControlChannel.FormatReply(reply.Code, Clean(reply.Lines)));
            return _control.WriteLinesAsync(lines, CancellationToken.None);
        }

        /// <summary>Reply text from upstream or from an error: no CR, LF or NUL can reach the legacy client's parser.</summary>
        private static List<string> Clean(IEnumerable<string> lines)
            => lines.Select(l => new string(l.Select(c => c is '\r' or '\n' or '\0' ? ' ' : c).ToArray())).ToList();

        /// <summary>An error message as a reply, cut into lines at sentence ends so clients that show one line show the reason.</summary>
        private static string[] Format(int code, string message)
        {
            var sentences = new List<string>();
            var current = new StringBuilder();
            foreach (var part in message.Replace('\r', ' ').Replace('\n', ' ').Split(new[] { ". " }, StringSplitOptions.None))
            {
                if (current.Length > 0 && current.Length + part.Length > 200) { sentences.Add(current.ToString().TrimEnd() + "."); current.Clear(); }
                current.Append(part).Append(". ");
            }
            if (current.Length > 0) sentences.Add(current.ToString().TrimEnd().TrimEnd('.') + ".");
            return ServerControlChannel.FormatReply(code, sentences).ToArray();
        }

        private Task SendAsync(string line) => _control.WriteLinesAsync(new[] { line }, CancellationToken.None);
        private Task SendAsync(IReadOnlyList<string> lines) => _control.WriteLinesAsync(lines, CancellationToken.None);

        private async Task TrySendAsync(string line)
        {
            try { await SendAsync(line).ConfigureAwait(false); } catch (Exception) { }
        }

        private async Task TrySendAsync(IReadOnlyList<string> lines)
        {
            try { await SendAsync(lines).ConfigureAwait(false); } catch (Exception) { }
        }

        private async Task SendAndCloseAsync(string line, CancellationTokenSource cts)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await _control.WriteLinesAsync(new[] { line }, timeout.Token).ConfigureAwait(false); } catch (Exception) { }
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
            try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception) { }
        }

        private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

        public void Dispose()
        {
            ClosePassive();
            _control.Dispose();
            try { _socket.Dispose(); } catch (Exception) { }
        }

        /// <summary>The upstream session broke or refused to go on: the legacy client gets 421 and the session ends.</summary>
        private sealed class UpstreamLostException : Exception
        {
            public UpstreamLostException(string message) : base(message) { }
        }
    }
}
