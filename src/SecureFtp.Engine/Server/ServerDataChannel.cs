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
    /// <summary>The data connection to the FTP client as PASV/EPSV or PORT/EPRT set it up. Each transfer uses it
    /// once: the listener or the address is forgotten after the connection is made, as RFC 959 servers do.</summary>
    internal sealed class ServerDataChannel : IDisposable
    {
        private Socket? _listener;
        private IPEndPoint? _activeTarget;

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
                            var socket = await listener.AcceptAsync().ConfigureAwait(false);
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
                if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
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

        public static string FormatHostPort(IPEndPoint endPoint)
        {
            var b = endPoint.Address.GetAddressBytes();
            return string.Format(CultureInfo.InvariantCulture, "{0},{1},{2},{3},{4},{5}", b[0], b[1], b[2], b[3], endPoint.Port >> 8, endPoint.Port & 255);
        }

        public void Reset()
        {
            try { _listener?.Dispose(); } catch (Exception) { }
            _listener = null;
            _activeTarget = null;
        }

        public void Dispose() => Reset();
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
