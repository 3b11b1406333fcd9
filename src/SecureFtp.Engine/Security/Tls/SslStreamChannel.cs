using System;
using System.IO;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Security.Tls
{
    /// <summary>A TLS channel run by the platform's SslStream (OpenSSL on Linux, SChannel on Windows).
    /// SslStream returns 0 both for close_notify and for a bare TCP close. The two are told apart by watching
    /// the transport underneath: SslStream answers a close_notify as soon as it decrypts the alert, without
    /// asking the transport for more, so if the transport itself reported end-of-stream, no close_notify came.</summary>
    internal sealed class SslStreamChannel : TlsChannel
    {
        private readonly SslStream _ssl;
        private readonly EofWatchingStream _transport;
        private long _received;
        private bool _disposed;

        private SslStreamChannel(SslStream ssl, EofWatchingStream transport, string host, bool isData) : base(host, isData)
        {
            _ssl = ssl;
            _transport = transport;
        }

        /// <summary>Runs the client handshake. <paramref name="validate"/> decides on the certificate; its
        /// rejection is what is thrown (SslStream's own exception only says the callback said no).</summary>
        public static async Task<SslStreamChannel> ConnectAsync(Stream raw, bool ownsRaw, string host, bool isData,
            SslProtocols protocols, X509Certificate2? clientCertificate,
            Func<X509Certificate2?, X509Chain?, FtpException?> validate, CancellationToken ct)
        {
            var transport = new EofWatchingStream(raw, ownsRaw);
            FtpException? rejection = null;
            var ssl = new SslStream(transport, leaveInnerStreamOpen: false, (sender, cert, chain, errors) =>
            {
                var c2 = cert == null ? null : cert as X509Certificate2 ?? new X509Certificate2(cert);
                rejection = validate(c2, chain);
                return rejection == null;
            });
            try
            {
                // The TargetHost is what the user typed. For a DNS name it is sent as SNI and is the key of
                // SslStream's session cache, so data connections opened with the same options resume the control
                // connection's session. (For an IP literal, SslStream neither sends SNI nor caches the session:
                // TlsConnector picks the OpenSSL backend for that case where it can.)
#if NET
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    EnabledSslProtocols = protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowRenegotiation = false,
                };
                if (clientCertificate != null) options.ClientCertificates = new X509CertificateCollection { clientCertificate };
                await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
#else
                var certs = clientCertificate != null ? new X509CertificateCollection { clientCertificate } : null;
                using (ct.Register(() => ssl.Dispose()))
                    await ssl.AuthenticateAsClientAsync(host, certs, protocols, checkCertificateRevocation: false).ConfigureAwait(false);
#endif
            }
            catch (Exception e) when (e is AuthenticationException or IOException or ObjectDisposedException)
            {
                ssl.Dispose();
                if (rejection != null) throw rejection;
                ct.ThrowIfCancellationRequested();
                throw Failure(host, isData ? "opening the data connection" : "negotiating the control connection", e,
                    DescribeHandshakeError(e, transport.SawEof));
            }
            return new SslStreamChannel(ssl, transport, host, isData);
        }

        private static string DescribeHandshakeError(Exception e, bool sawEof)
        {
            string msg = e.InnerException != null ? $"{e.Message} ({e.InnerException.Message})" : e.Message;
            return sawEof ? "the server closed the connection during the handshake; " + msg : msg;
        }

        public override string ProtocolVersion => _ssl.SslProtocol.ToString();
#if NET
        public override string Cipher => _ssl.NegotiatedCipherSuite.ToString();
#else
        public override string Cipher => $"{_ssl.CipherAlgorithm}-{_ssl.CipherStrength} {_ssl.HashAlgorithm} {_ssl.KeyExchangeAlgorithm}";
#endif
        // SslStream does not say whether it resumed; vsftpd's require_ssl_reuse is the judge for that.
        public override bool SessionResumed => false;

        public override X509Certificate2? PeerCertificate
            => _ssl.RemoteCertificate == null ? null : _ssl.RemoteCertificate as X509Certificate2 ?? new X509Certificate2(_ssl.RemoteCertificate);

        protected override async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken ct)
        {
            if (buffer.Length == 0 || CloseNotifyReceived) return 0;
            int n;
            try
            {
#if NET
                n = await _ssl.ReadAsync(buffer, ct).ConfigureAwait(false);
#else
                var array = System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var seg) ? seg : new ArraySegment<byte>(buffer.ToArray());
                n = await _ssl.ReadAsync(array.Array!, array.Offset, array.Count, ct).ConfigureAwait(false);
#endif
            }
            catch (IOException e) when (_transport.SawEof)
            {
                // SslStream's "unexpected EOF" in the middle of a record: cut as well.
                throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated", Truncated(_received).Message, inner: e);
            }
            catch (IOException e)
            {
                throw new FtpException(FtpErrorKind.Connection, IsData ? "DataConnectionLost" : "ConnectionLost",
                    $"The {(IsData ? "data" : "control")} connection with {Host} failed after {_received} bytes: {e.Message}", inner: e);
            }
            if (n > 0)
            {
                _received += n;
                return n;
            }
            if (_transport.SawEof) throw Truncated(_received);
            CloseNotifyReceived = true;
            return 0;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            HasWritten = true;
            _ssl.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            HasWritten = true;
            return _ssl.WriteAsync(buffer, offset, count, ct);
        }

#if NET
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            HasWritten = true;
            return _ssl.WriteAsync(buffer, ct);
        }
#endif

        public override void Flush() => _ssl.Flush();
        public override Task FlushAsync(CancellationToken ct) => _ssl.FlushAsync(ct);

        public override async Task SendCloseNotifyAsync(CancellationToken ct)
        {
            if (CloseNotifySent) return;
            CloseNotifySent = true;
#if NET
            await _ssl.ShutdownAsync().ConfigureAwait(false);
#else
            // Not in the netstandard2.0 surface, but present in .NET Framework 4.7+ where this build runs.
            if (typeof(SslStream).GetMethod("ShutdownAsync", Type.EmptyTypes)?.Invoke(_ssl, null) is Task shutdown)
                await shutdown.ConfigureAwait(false);
#endif
        }

        /// <summary>After an upload, reads through TLS until the server's close_notify. With TLS 1.3 this also
        /// takes in the NewSessionTicket the server sent after the resumed handshake: SslStream (OpenSSL) drops a
        /// TLS 1.3 session from its cache once a handshake has used it, so without the fresh ticket the next data
        /// connection would not resume and vsftpd would refuse it with 522.</summary>
        private void ReadToServerCloseNotify() => ReadToServerCloseNotifyAsync().GetAwaiter().GetResult();

        private async Task ReadToServerCloseNotifyAsync()
        {
            try
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var reg = limit.Token.Register(_transport.Dispose);
                var scratch = new byte[4096];
                while (await _ssl.ReadAsync(scratch, 0, scratch.Length, limit.Token).ConfigureAwait(false) > 0) { }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException) { }
        }

        protected override async Task FinishAfterCloseNotifyAsync()
        {
            if (!IsData || !(HasWritten || CloseNotifyReceived)) return;
            if (!CloseNotifyReceived) await ReadToServerCloseNotifyAsync().ConfigureAwait(false);
            await FinishGracefullyAsync(_transport).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                // A channel ends with close_notify, so the server knows an upload is complete
                // (vsftpd's strict_ssl_read_eof refuses an upload without it).
                if (!CloseNotifySent)
                {
                    try { SendCloseNotifyAsync(CancellationToken.None).GetAwaiter().GetResult(); }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
                    if (IsData && (HasWritten || CloseNotifyReceived))
                    {
                        if (!CloseNotifyReceived) ReadToServerCloseNotify();
                        FinishGracefully(_transport);
                    }
                }
                _ssl.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Passes everything through and remembers whether a read returned end-of-stream.</summary>
    internal sealed class EofWatchingStream : Stream
    {
        private readonly Stream _inner;
        private readonly bool _ownsInner;

        public EofWatchingStream(Stream inner, bool ownsInner)
        {
            _inner = inner;
            _ownsInner = ownsInner;
        }

        public bool SawEof { get; private set; }

        public Stream Inner => _inner;

        public override int Read(byte[] buffer, int offset, int count) => Seen(_inner.Read(buffer, offset, count), count);

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
            => Seen(await _inner.ReadAsync(buffer, offset, count, ct).ConfigureAwait(false), count);

#if NET
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
            => Seen(await _inner.ReadAsync(buffer, ct).ConfigureAwait(false), buffer.Length);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
#endif

        private int Seen(int n, int asked)
        {
            if (n == 0 && asked > 0) SawEof = true;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer, offset, count, ct);
        public override void Flush() => _inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => _inner.FlushAsync(ct);
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && _ownsInner) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
