using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Server
{
    /// <summary>The client's data connections: set up as PASV/EPSV or PORT/EPRT said (each transfer uses the setup once:
    /// the listener or the address is forgotten after the connection is made, as RFC 959 servers do), and the transfers
    /// over them, run in the background so the command loop still hears ABOR and STAT. How a connection is protected
    /// (clear, TLS, RFC 2228 blocks) is the session's security front end's to say, through the protect callback.</summary>
    internal sealed class ServerDataChannel : IDisposable
    {
        private readonly SecureFtpServerOptions _options;
        private readonly IPAddress _clientAddress;
        private readonly Func<int, string, Task> _reply;
        private readonly Action<SecureFtpServerLogKind, string> _log;
        private readonly Func<Socket, CancellationToken, Task<ServerDataConnection>> _protect;
        private Socket? _listener;
        private IPEndPoint? _activeTarget;
        private Task? _transfer;
        private CancellationTokenSource? _transferCancel;

        /// <param name="options">The server's options: passive port range, timeouts, address checks.</param>
        /// <param name="clientAddress">The control connection's peer: the only address a data connection may come from or go to.</param>
        /// <param name="reply">Sends a one-line reply on the control connection.</param>
        /// <param name="log">The server's log.</param>
        /// <param name="protect">Wraps a fresh data connection as the protection level in force requires.</param>
        public ServerDataChannel(SecureFtpServerOptions options, IPAddress clientAddress, Func<int, string, Task> reply,
            Action<SecureFtpServerLogKind, string> log, Func<Socket, CancellationToken, Task<ServerDataConnection>> protect)
        {
            _options = options;
            _clientAddress = clientAddress;
            _reply = reply;
            _log = log;
            _protect = protect;
        }

        /// <summary>A transfer started with <see cref="StartTransfer"/> is still running.</summary>
        public bool IsTransferRunning => _transfer != null && !_transfer.IsCompleted;

        // ---- transfers ----

        /// <summary>Runs a transfer in the background; the command loop meanwhile answers ABOR and STAT.</summary>
        public void StartTransfer(Func<CancellationToken, Task> transfer, CancellationToken ct)
        {
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _transferCancel = cancel;
            _transfer = Task.Run(async () =>
            {
                try { await transfer(cancel.Token).ConfigureAwait(false); }
                catch (Exception e)
                {
                    _log(SecureFtpServerLogKind.Error, "Transfer failed: " + e.Message);
                    try { await _reply(451, "Transfer failed: local error in processing.").ConfigureAwait(false); }
                    catch (Exception r) when (r is IOException or SocketException or ObjectDisposedException or InvalidOperationException) { }
                }
            }, CancellationToken.None);
        }

        /// <summary>RFC 959: commands are answered in order; a command that is not ABOR or STAT waits for the transfer's reply.</summary>
        public async Task WaitForTransferAsync()
        {
            var transfer = _transfer;
            if (transfer == null) return;
            try { await transfer.ConfigureAwait(false); } catch (Exception) { }
        }

        /// <summary>ABOR, REIN, AUTH and the end of the session: stops the running transfer and waits for it.</summary>
        public async Task CancelTransferAsync()
        {
            var transfer = _transfer;
            if (transfer == null) return;
            try { _transferCancel?.Cancel(); } catch (ObjectDisposedException) { }
            try { await transfer.ConfigureAwait(false); } catch (Exception) { }
            _transfer = null;
            _transferCancel?.Dispose();
            _transferCancel = null;
        }

        /// <summary>Sends 150, opens the data connection (protected as PROT says), runs <paramref name="copy"/> and
        /// closes the connection the way the protection requires. On failure replies 425 (no connection),
        /// 522 (TLS refused on it) or 426 (cut or aborted) and returns false; on success sends nothing more, so
        /// the caller decides the final reply (226, or 451 when saving the upload failed). <paramref name="failureNote"/>
        /// adds to a 426 what the client can do (an upload's resume offset).</summary>
        public async Task<bool> TransferAsync(string opening, Func<Stream, CancellationToken, Task> copy, CancellationToken ct, Func<string>? failureNote = null)
        {
            await _reply(150, opening).ConfigureAwait(false);
            ServerDataConnection connection;
            try
            {
                connection = await OpenAsync(ct).ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                _log(SecureFtpServerLogKind.Warning, e.Message);
                if (e.Kind == FtpErrorKind.Security) await _reply(522, "TLS negotiation on the data connection failed: " + e.Message).ConfigureAwait(false);
                else await _reply(425, "Can't open data connection: " + e.Message).ConfigureAwait(false);
                return false;
            }
            catch (OperationCanceledException)
            {
                await _reply(426, "Transfer aborted.").ConfigureAwait(false);
                return false;
            }
            string Note() => failureNote != null ? " " + failureNote() : "";
            using (connection)
            {
                try
                {
                    await copy(connection.Stream, ct).ConfigureAwait(false);
                    await connection.CompleteAsync().ConfigureAwait(false);
                    return true;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // CopyAsync's stall timer, not ABOR: say so, or a stalled peer looks like a client that aborted.
                    connection.Abort();
                    _log(SecureFtpServerLogKind.Warning, $"Data connection stalled: nothing moved for {_options.DataTimeout.TotalSeconds:0} s.");
                    await _reply(426, $"Transfer timed out: no data for {_options.DataTimeout.TotalSeconds:0} seconds." + Note()).ConfigureAwait(false);
                    return false;
                }
                catch (OperationCanceledException)
                {
                    connection.Abort();
                    await _reply(426, "Transfer aborted." + Note()).ConfigureAwait(false);
                    return false;
                }
                catch (FtpException e) when (e.Kind == FtpErrorKind.Truncated)
                {
                    connection.Abort();
                    _log(SecureFtpServerLogKind.Warning, e.Message);
                    await _reply(426, "Transfer incomplete: " + e.Message + Note()).ConfigureAwait(false);
                    return false;
                }
                catch (Exception e) when (e is IOException or SocketException or FtpException or ObjectDisposedException)
                {
                    connection.Abort();
                    _log(SecureFtpServerLogKind.Warning, "Data connection failed: " + e.Message);
                    await _reply(426, "Connection closed; transfer aborted." + Note()).ConfigureAwait(false);
                    return false;
                }
            }
        }

        private async Task<ServerDataConnection> OpenAsync(CancellationToken ct)
        {
            var socket = await ConnectAsync(_clientAddress, _options.DataTimeout, ct).ConfigureAwait(false);
            try
            {
                return await _protect(socket, ct).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>Copies with a stall timeout: a peer that stops sending or reading for DataTimeout ends the transfer.</summary>
        public async Task CopyAsync(Stream source, Stream destination, CancellationToken ct, Func<byte[], int, ArraySegment<byte>>? convert = null)
        {
            var buffer = new byte[64 * 1024];
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
            while (true)
            {
                stall.CancelAfter(_options.DataTimeout);
                int n = await source.ReadAsync(buffer, 0, buffer.Length, stall.Token).ConfigureAwait(false);
                if (n == 0) return;
                var chunk = convert != null ? convert(buffer, n) : new ArraySegment<byte>(buffer, 0, n);
                await destination.WriteAsync(chunk.Array!, chunk.Offset, chunk.Count, stall.Token).ConfigureAwait(false);
                if (ct.IsCancellationRequested) ct.ThrowIfCancellationRequested();
            }
        }

        // ---- setup ----

        public bool IsConfigured => _listener != null || _activeTarget != null;

        /// <summary>PASV/EPSV: listens on a free port of <paramref name="localAddress"/> and returns it.</summary>
        public IPEndPoint ListenPassive(IPAddress localAddress)
        {
            Reset();
            var listener = new Socket(localAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(new IPEndPoint(localAddress, 0));
                listener.Listen(1);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            _listener = listener;
            return (IPEndPoint)listener.LocalEndPoint!;
        }

        /// <summary>PORT/EPRT: remembers where to connect.</summary>
        public void SetActive(IPEndPoint target)
        {
            Reset();
            _activeTarget = target;
        }

        /// <summary>Makes the data connection. A passive connection from another host than the control peer is
        /// refused (port stealing, RFC 4217 s.15.2.6 and RFC 2577).</summary>
        public async Task<Socket> ConnectAsync(IPAddress controlPeer, TimeSpan timeout, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                if (_listener != null)
                {
                    var listener = _listener;
                    _listener = null;
                    using (listener)
                    using (cts.Token.Register(() => listener.Dispose()))
                    {
                        while (true)
                        {
#if NET
                            var socket = await listener.AcceptAsync(CancellationToken.None).ConfigureAwait(false); // the timer stops the listener
#else
                            var socket = await listener.AcceptAsync().ConfigureAwait(false);
#endif
                            var from = ((IPEndPoint)socket.RemoteEndPoint!).Address;
                            if (SameHost(from, controlPeer))
                            {
                                socket.NoDelay = true;
                                return socket;
                            }
                            socket.Dispose();
                        }
                    }
                }
                if (_activeTarget != null)
                {
                    var target = _activeTarget;
                    _activeTarget = null;
                    var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        using (cts.Token.Register(() => socket.Dispose()))
                            await socket.ConnectAsync(target).ConfigureAwait(false);
                        return socket;
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                ct.ThrowIfCancellationRequested();
                throw new FtpException(FtpErrorKind.Connection, "DataConnectionFailed",
                    cts.IsCancellationRequested ? $"No data connection within {timeout.TotalSeconds:0.#} s." : $"The data connection failed: {e.Message}", inner: e);
            }
            throw new FtpException(FtpErrorKind.Protocol, "NoDataPort", "Use PORT, EPRT, PASV or EPSV first.");
        }

        public static bool SameHost(IPAddress a, IPAddress b)
        {
            if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
            if (b.IsIPv4MappedToIPv6) b = b.MapToIPv4();
            return a.Equals(b);
        }

        /// <summary>Parses "h1,h2,h3,h4,p1,p2" (PORT, and the numbers in a 227 reply).</summary>
        public static IPEndPoint? ParseHostPort(string text)
        {
            var parts = text.Trim().Split(',');
            if (parts.Length != 6) return null;
            var bytes = new byte[6];
            for (int i = 0; i < 6; i++)
                if (!byte.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i])) return null;
            return new IPEndPoint(new IPAddress(new[] { bytes[0], bytes[1], bytes[2], bytes[3] }), bytes[4] * 256 + bytes[5]);
        }

        /// <summary>Parses EPRT's "|proto|address|port|" (RFC 2428; the delimiter is the first character).</summary>
        public static IPEndPoint? ParseExtendedAddress(string text)
        {
            text = text.Trim();
            if (text.Length < 5) return null;
            var parts = text.Split(text[0]);
            if (parts.Length != 5 || parts[0].Length != 0 || parts[4].Length != 0) return null;
            if (!IPAddress.TryParse(parts[2], out var address)) return null;
            if (parts[1] == "1" && address.AddressFamily != AddressFamily.InterNetwork) return null;
            if (parts[1] == "2" && address.AddressFamily != AddressFamily.InterNetworkV6) return null;
            if (parts[1] != "1" && parts[1] != "2") return null;
            if (!ushort.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0) return null;
            return new IPEndPoint(address, port);
        }

        public void Reset()
        {
            try { _listener?.Dispose(); } catch (Exception) { }
            _listener = null;
            _activeTarget = null;
        }

        public void Dispose()
        {
            try { _transferCancel?.Cancel(); } catch (ObjectDisposedException) { }
            Reset();
        }
    }

    /// <summary>One open data connection to the client, protected or not. Closing it the right way matters: a TLS
    /// stream ends with close_notify and an RFC 2228 stream with its end-of-file block, so the client can tell a
    /// complete file from a cut one.</summary>
    internal sealed class ServerDataConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly Func<Task>? _complete;
        private readonly Action? _abort;

        public ServerDataConnection(Socket socket, Stream stream, Func<Task>? complete, Action? abort = null)
        {
            _socket = socket;
            Stream = stream;
            _complete = complete;
            _abort = abort;
        }

        /// <summary>The transfer failed: closing must not look like a complete file (no end-of-file block).</summary>
        public void Abort() => _abort?.Invoke();

        public Stream Stream { get; }

        /// <summary>Marks the end of what we sent (close_notify / end-of-file block), then half-closes the socket.</summary>
        public async Task CompleteAsync()
        {
            await Stream.FlushAsync().ConfigureAwait(false);
            if (_complete != null) await _complete().ConfigureAwait(false);
            try { _socket.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
        }

        public void Dispose()
        {
            try { Stream.Dispose(); } catch (Exception) { }
            try { _socket.Dispose(); } catch (Exception) { }
        }
    }
}
