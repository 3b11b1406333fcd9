using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Server
{
    /// <summary>The server end of one control connection: reads command lines (Telnet IAC sequences removed, length
    /// bounded), writes reply lines, and switches between cleartext and TLS (AUTH TLS, implicit TLS, REIN).</summary>
    internal sealed class ServerControlChannel : IDisposable
    {
        /// <summary>RFC 959 does not bound command lines; paths are the longest legitimate part.</summary>
        public const int MaxLineBytes = 4096;

        private const byte Iac = 255;
        private readonly Socket _socket;
        private readonly NetworkStream _raw;
        private readonly SemaphoreSlim _writeLock = new SemaphoreSlim(1, 1);
        private readonly byte[] _buffer = new byte[8192];
        private int _start, _end;
        private Stream _stream;
        private SslStream? _tls;

        public ServerControlChannel(Socket socket)
        {
            _socket = socket;
            // ABOR arrives as IAC IP IAC DM with DM sent urgent (RFC 959 s.4.1.3): keep it in the stream so the
            // IAC parser sees the whole sequence instead of losing the DM out of band.
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.OutOfBandInline, true);
            _socket.NoDelay = true;
            _raw = new NetworkStream(socket, ownsSocket: false);
            _stream = _raw;
        }

        public IPEndPoint RemoteEndPoint => (IPEndPoint)_socket.RemoteEndPoint!;
        public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

        /// <summary>The TLS layer on the control connection, or null in cleartext.</summary>
        public SslStream? Tls => _tls;

        /// <summary>Reads one command line without CR/LF; null when the client closed the connection. Every line is
        /// bounded whatever it holds: at most <see cref="MaxLineBytes"/> bytes of command, and at most twice that on
        /// the wire (Telnet sequences and escaped IAC bytes count too), so no byte pattern grows a line without end.</summary>
        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            var line = new List<byte>(64);
            int wireBytes = 0;
            while (true)
            {
                while (_start < _end)
                {
                    byte b = _buffer[_start];
                    if (b == Iac)
                    {
                        // Need the byte after IAC (and the option byte for WILL/WONT/DO/DONT) before deciding.
                        if (_end - _start < 2) break;
                        byte command = _buffer[_start + 1];
                        int length = command >= 251 && command <= 254 ? 3 : 2;
                        if (_end - _start < length) break;
                        _start += length;
                        CountWireBytes(ref wireBytes, length);
                        if (command == Iac) AddToLine(line, Iac);
                        continue;
                    }
                    _start++;
                    CountWireBytes(ref wireBytes, 1);
                    if (b == '\n')
                    {
                        if (line.Count > 0 && line[line.Count - 1] == '\r') line.RemoveAt(line.Count - 1);
                        return Encoding.UTF8.GetString(line.ToArray());
                    }
                    AddToLine(line, b);
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                int n = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, ct).ConfigureAwait(false);
                if (n == 0) return null;
                _end += n;
            }
        }

        private void AddToLine(List<byte> line, byte b)
        {
            if (line.Count >= MaxLineBytes)
                throw new FtpException(FtpErrorKind.Protocol, "CommandLineTooLong",
                    $"The client at {RemoteEndPoint} sent a command line longer than {MaxLineBytes} bytes.");
            line.Add(b);
        }

        private void CountWireBytes(ref int wireBytes, int count)
        {
            wireBytes += count;
            // Telnet commands (IAC NOP, option negotiation) add nothing to the line but must not go on for ever either.
            if (wireBytes > 2 * MaxLineBytes + 2)
                throw new FtpException(FtpErrorKind.Protocol, "CommandLineTooLong",
                    $"The client at {RemoteEndPoint} sent more than {2 * MaxLineBytes} bytes without ending the command line.");
        }

        /// <summary>Writes lines exactly as given (each gets CRLF) in one piece, so replies never interleave.</summary>
        public async Task WriteLinesAsync(IReadOnlyList<string> lines, CancellationToken ct)
        {
            var text = new StringBuilder();
            foreach (var line in lines) text.Append(line).Append("\r\n");
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(bytes, 0, bytes.Length, ct).ConfigureAwait(false);
                await _stream.FlushAsync(ct).ConfigureAwait(false);
            }
            finally { _writeLock.Release(); }
        }

        /// <summary>Formats an RFC 959 reply: "code text", or "code-first" ... "code last" for several lines.</summary>
        public static IReadOnlyList<string> FormatReply(int code, IReadOnlyList<string> lines)
        {
            if (lines.Count == 0) lines = new[] { string.Empty };
            var result = new string[lines.Count];
            for (int i = 0; i < lines.Count; i++)
            {
                bool last = i == lines.Count - 1;
                // Inner lines that begin with a digit could be mistaken for the end of the reply: indent them.
                result[i] = i == 0 || last ? $"{code}{(last ? ' ' : '-')}{lines[i]}"
                    : lines[i].StartsWith(" ", StringComparison.Ordinal) ? lines[i] : " " + lines[i];
            }
            return result;
        }

        /// <summary>True when the client sent bytes after the command that starts TLS: they were not protected and
        /// may have been injected (RFC 4217 s.4 and the STARTTLS injection class of attacks).</summary>
        public bool HasBufferedInput => _end > _start;

        /// <summary>Runs the TLS handshake as server (after "234" to AUTH, or first thing on the implicit port).</summary>
        public async Task StartTlsAsync(X509Certificate2 certificate, SslProtocols protocols, TimeSpan timeout, CancellationToken ct)
        {
            if (HasBufferedInput)
                throw new FtpException(FtpErrorKind.Security, "DataBeforeTlsHandshake",
                    $"The client at {RemoteEndPoint} sent data after AUTH before the TLS handshake; it may have been injected. The connection is closed.");
            var tls = new SslStream(_raw, leaveInnerStreamOpen: true);
            await TlsServer.AuthenticateAsync(tls, certificate, protocols, timeout, issueTickets: true, ct).ConfigureAwait(false);
            _tls = tls;
            _stream = tls;
        }

        /// <summary>Ends TLS on the control connection and goes on in cleartext (REIN, RFC 4217 s.13): sends
        /// close_notify, consumes the client's, then reads and writes the bare socket.</summary>
        public async Task StopTlsAsync(TimeSpan timeout, CancellationToken ct)
        {
            var tls = _tls;
            if (tls == null) return;
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await TlsServer.ShutdownAsync(tls).ConfigureAwait(false);
                // Whatever was decrypted but not yet read was sent under TLS before the client saw our reply: drop it.
                _start = _end = 0;
                _tls = null;
                _stream = _raw;
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(timeout);
                try
                {
                    await SkipCloseNotifyRecordAsync(cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException && !ct.IsCancellationRequested)
                {
                    // A client that never sends close_notify: go on in cleartext anyway.
                }
                tls.Dispose();
            }
            finally { _writeLock.Release(); }
        }

        /// <summary>Reads the client's close_notify as one TLS record straight from the socket. Reading it through
        /// SslStream would read ahead and swallow the first cleartext command that follows it. A client that goes
        /// straight to cleartext (no record header) keeps its bytes: they become the next command.</summary>
        private async Task SkipCloseNotifyRecordAsync(CancellationToken ct)
        {
            await FillAsync(1, ct).ConfigureAwait(false);
            byte contentType = _buffer[_start];
            if (contentType < 20 || contentType > 24) return;
            await FillAsync(5, ct).ConfigureAwait(false);
            int length = (_buffer[_start + 3] << 8) | _buffer[_start + 4];
            if (length > _buffer.Length - 5)
                throw new FtpException(FtpErrorKind.Protocol, "BadCloseNotify", "The client's TLS closing record is malformed.");
            await FillAsync(5 + length, ct).ConfigureAwait(false);
            _start += 5 + length;
        }

        private async Task FillAsync(int count, CancellationToken ct)
        {
            while (_end - _start < count)
            {
                int n = await _raw.ReadAsync(_buffer, _end, _buffer.Length - _end, ct).ConfigureAwait(false);
                if (n == 0) throw new IOException("The client closed the connection.");
                _end += n;
            }
        }

        public void Dispose()
        {
            try { _tls?.Dispose(); } catch (Exception) { }
            try { _raw.Dispose(); } catch (Exception) { }
            try { _socket.Dispose(); } catch (Exception) { }
            _writeLock.Dispose();
        }
    }

    /// <summary>The server side of a TLS handshake, for control and data connections alike.</summary>
    internal static class TlsServer
    {
        /// <summary>Sends close_notify. netstandard2.0 has no API for it; there the close_notify goes out when the
        /// stream is disposed (.NET Framework's SslStream sends it on Close).</summary>
        public static Task ShutdownAsync(SslStream tls)
        {
#if NET
            return tls.ShutdownAsync();
#else
            return Task.CompletedTask;
#endif
        }

        /// <summary>TLS versions for data connections: TLS 1.2 whenever the configuration allows it. A TLS 1.3 server
        /// sends its session tickets after the handshake; an uploading client (curl, lftp) never reads them, so its
        /// close becomes a TCP reset, and a reset discards the upload's last bytes still queued on our side (seen
        /// whenever the proxy's ftpd reads slower than the client sends). TLS 1.2 puts the ticket inside the handshake.
        /// A configuration that allows only TLS 1.3 is honoured as it is.</summary>
        public static SslProtocols DataConnectionProtocols(SslProtocols configured)
        {
            if (configured == SslProtocols.None) return SslProtocols.Tls12;
#pragma warning disable CA5397 // removes TLS 1.3 from the configured set (the analyzer reads ~Tls13 as a deprecated version); enables nothing old
            return (configured & SslProtocols.Tls12) != 0 ? configured & ~Tls13 : configured;
#pragma warning restore CA5397
        }

        /// <summary>SslProtocols.Tls13, which netstandard2.0 does not name.</summary>
        private const SslProtocols Tls13 = (SslProtocols)12288;

        /// <param name="tls">The stream over the accepted connection.</param>
        /// <param name="certificate">The server's certificate, with its private key.</param>
        /// <param name="protocols">The TLS versions the server accepts.</param>
        /// <param name="timeout">How long the client has to finish the handshake.</param>
        /// <param name="issueTickets">False on data connections: nothing resumes from them.</param>
        /// <param name="ct">Cancels the handshake (the server is stopping).</param>
        public static async Task AuthenticateAsync(SslStream tls, X509Certificate2 certificate, SslProtocols protocols, TimeSpan timeout, bool issueTickets, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
#if NET
                var options = new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowTlsResume = issueTickets,
                };
                await tls.AuthenticateAsServerAsync(options, cts.Token).ConfigureAwait(false);
#else
                using (cts.Token.Register(() => tls.Dispose()))
                    await tls.AuthenticateAsServerAsync(certificate, false, protocols, false).ConfigureAwait(false);
#endif
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                ct.ThrowIfCancellationRequested();
                string reason = e.InnerException != null ? $"{e.Message} ({e.InnerException.Message})" : e.Message;
                throw new FtpException(FtpErrorKind.Security, "TlsHandshakeFailed", $"The TLS handshake with the client failed: {reason}", inner: e);
            }
        }
    }
}
