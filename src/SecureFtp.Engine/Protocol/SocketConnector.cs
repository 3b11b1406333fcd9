using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Protocol
{
    /// <summary>TCP connect with a timeout, trying each resolved address in turn.</summary>
    public static class SocketConnector
    {
        public static async Task<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
        {
            IPAddress[] addresses = IPAddress.TryParse(host, out var literal)
                ? new[] { literal }
#if NET
                : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
#else
                : await Dns.GetHostAddressesAsync(host).ConfigureAwait(false);
#endif
            if (addresses.Length == 0)
                throw new FtpException(FtpErrorKind.Connection, "HostNotFound", $"The host name '{host}' did not resolve to any address.");
            Exception? last = null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await ConnectSocketAsync(socket, new IPEndPoint(address, port), timeout, ct).ConfigureAwait(false);
                    return socket;
                }
                catch (Exception e) when (e is SocketException or FtpException)
                {
                    socket.Dispose();
                    last = e;
                }
            }
            if (last is FtpException fe) throw fe;
            throw new FtpException(FtpErrorKind.Connection, "ConnectFailed", $"Could not connect to {host}:{port}: {last?.Message}", inner: last);
        }

        public static async Task ConnectSocketAsync(Socket socket, IPEndPoint endPoint, TimeSpan timeout, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            using var reg = cts.Token.Register(() => { try { socket.Dispose(); } catch { } });
            try
            {
#if NET
                await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
#else
                await Task.Factory.FromAsync(socket.BeginConnect, socket.EndConnect, endPoint, null).ConfigureAwait(false);
#endif
            }
            catch (Exception e) when (cts.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                ct.ThrowIfCancellationRequested();
                throw new FtpException(FtpErrorKind.Timeout, "ConnectTimeout", $"Connecting to {endPoint} took longer than {timeout.TotalSeconds:0.#} s.", inner: e);
            }
        }
    }
}
