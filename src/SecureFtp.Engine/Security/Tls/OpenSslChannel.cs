using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using static SecureFtp.Security.Tls.OpenSslNative;

namespace SecureFtp.Security.Tls
{
    /// <summary>One SSL_CTX per FTP session, for the OpenSSL backend.
    ///
    /// Why this backend exists: RFC 4217 servers such as vsftpd (require_ssl_reuse=YES) refuse a data
    /// connection that does not resume the control connection's TLS session. SslStream on Linux resumes only
    /// through its own cache, which dotnet/runtime (Interop.OpenSsl.cs, AllocateSslHandle) keys on the
    /// TargetHost string and skips entirely when the TargetHost is empty or an IP address (no SNI is sent for
    /// an IP, so the cache is not used: "We don't want to try on empty TargetName or IP Address since hostname
    /// is our key"). SslStream has no API to hand it a session. Sending some made-up DNS name to get a cache
    /// key would put a false SNI on the wire and tie validation to a name the user never typed. And for a DNS
    /// name the cache holds one session per name: two sessions to the same host (two ports, or two jobs in one
    /// process) resume each other's session, which vsftpd refuses (522). So wherever libssl is there, this
    /// backend drives the same system libssl directly through memory BIOs, as lftp does: the
    /// data connection gets SSL_set_session(SSL_get1_session(control)), which resumes for TLS 1.2 (session ID
    /// or ticket) and TLS 1.3 (PSK ticket) alike. Certificate checks are not left to OpenSSL
    /// (SSL_VERIFY_NONE): the handshake's certificate goes through the same <see cref="TlsCertificateVerifier"/>
    /// as on the SslStream path (X509Chain plus the IP address SAN) before a single byte of FTP is sent.</summary>
    internal sealed class OpenSslContext : IDisposable
    {
        private IntPtr _ctx;

        public OpenSslContext(SslProtocols protocols)
        {
            _ctx = SSL_CTX_new(TLS_client_method());
            if (_ctx == IntPtr.Zero) throw new FtpException(FtpErrorKind.Security, "TlsFailure", "OpenSSL could not create a TLS context: " + TakeErrors());
            SSL_CTX_set_verify(_ctx, SSL_VERIFY_NONE, IntPtr.Zero);
            SSL_CTX_ctrl(_ctx, SSL_CTRL_MODE, (IntPtr)(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), IntPtr.Zero);
            var (min, max) = VersionRange(protocols);
            if (min != 0) SSL_CTX_ctrl(_ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, (IntPtr)min, IntPtr.Zero);
            if (max != 0) SSL_CTX_ctrl(_ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, (IntPtr)max, IntPtr.Zero);
        }

        public IntPtr Handle => _ctx;

        /// <summary>SslProtocols flags to OpenSSL's min/max version (0 = library default).</summary>
        private static (int min, int max) VersionRange(SslProtocols protocols)
        {
            if (protocols == SslProtocols.None) return (0, 0);
            var versions = new List<int>();
#pragma warning disable CS0618, SYSLIB0039, CA5397 // old versions are mapped, not recommended: the caller's SslProtocols (RFC 4217 and the AUTH SSL draft, draft-murray-auth-ftp-ssl) are translated to OpenSSL's range
            if ((protocols & SslProtocols.Tls) != 0) versions.Add(TLS1_VERSION);
            if ((protocols & SslProtocols.Tls11) != 0) versions.Add(TLS1_1_VERSION);
#pragma warning restore CS0618, SYSLIB0039, CA5397
            if ((protocols & SslProtocols.Tls12) != 0) versions.Add(TLS1_2_VERSION);
            if (((int)protocols & 0x3000) != 0) versions.Add(TLS1_3_VERSION); // SslProtocols.Tls13 (not in netstandard2.0)
            if (versions.Count == 0) return (0, 0);
            versions.Sort();
            return (versions[0], versions[versions.Count - 1]);
        }

        public void Dispose()
        {
            if (_ctx != IntPtr.Zero) { SSL_CTX_free(_ctx); _ctx = IntPtr.Zero; }
        }
    }

    /// <summary>A TLS channel run by libssl through memory BIOs over any Stream. Native calls are made under a
    /// lock and never across an await, so a reply reader and a command writer can share the control channel.</summary>
    internal sealed class OpenSslChannel : TlsChannel
    {
        private const int TransportChunk = 256 * 1024;

        private Stream _transport;
        private readonly bool _ownsTransport;
        private readonly object _sync = new object();
        // Pooled: a session of many small files opens a data channel per file, and fresh 256 KiB arrays would
        // each land on the large object heap.
        private readonly byte[] _incoming = ArrayPool<byte>.Shared.Rent(TransportChunk);
        private readonly byte[] _outgoing = ArrayPool<byte>.Shared.Rent(TransportChunk + 4096);
        private readonly SemaphoreSlim _writeLock = new SemaphoreSlim(1, 1);
        private IntPtr _ssl;
        private IntPtr _readBio, _writeBio;
        private long _received;
        private bool _disposed;
        private bool _resuming;

        private OpenSslChannel(IntPtr ssl, IntPtr readBio, IntPtr writeBio, Stream transport, bool ownsTransport, string host, bool isData)
            : base(host, isData)
        {
            _ssl = ssl;
            _readBio = readBio;
            _writeBio = writeBio;
            _transport = transport;
            _ownsTransport = ownsTransport;
        }

        /// <summary>Handshakes as a client. <paramref name="resumeFrom"/> is the control channel whose session a
        /// data connection resumes. The certificate is checked by <paramref name="validate"/> before return.</summary>
        public static Task<OpenSslChannel> ConnectAsync(OpenSslContext context, Stream raw, bool ownsRaw, string host, bool isData,
            OpenSslChannel? resumeFrom, X509Certificate2? clientCertificate,
            Func<X509Certificate2?, IReadOnlyList<X509Certificate2>, FtpException?> validate, CancellationToken ct)
            => Prepare(context, raw, ownsRaw, host, isData, resumeFrom, clientCertificate).CompleteHandshakeAsync(validate, ct);

        /// <summary>The first half of a client handshake, without I/O: the SSL object set up and the ClientHello,
        /// key share included, generated into the write BIO. <see cref="CompleteHandshakeAsync"/> sends it.
        /// <paramref name="raw"/> may be <see cref="Stream.Null"/> until <see cref="AttachTransport"/>.</summary>
        public static OpenSslChannel Prepare(OpenSslContext context, Stream raw, bool ownsRaw, string host, bool isData,
            OpenSslChannel? resumeFrom, X509Certificate2? clientCertificate)
        {
            ERR_clear_error();
            IntPtr ssl = SSL_new(context.Handle);
            if (ssl == IntPtr.Zero) throw Failure(host, "starting TLS", null, TakeErrors());
            IntPtr rbio = BIO_new(BIO_s_mem()), wbio = BIO_new(BIO_s_mem());
            // An empty read BIO means "wait for more" (retry), not end of stream.
            BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, (IntPtr)(-1), IntPtr.Zero);
            SSL_set_bio(ssl, rbio, wbio);
            SSL_set_connect_state(ssl);
            // SNI for a DNS name; none for an IP literal (RFC 6066 s.3 forbids IP addresses in server_name).
            if (!System.Net.IPAddress.TryParse(host, out _))
            {
                IntPtr name = System.Runtime.InteropServices.Marshal.StringToHGlobalAnsi(host);
                try { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, (IntPtr)TLSEXT_NAMETYPE_host_name, name); }
                finally { System.Runtime.InteropServices.Marshal.FreeHGlobal(name); }
            }
            var channel = new OpenSslChannel(ssl, rbio, wbio, raw, ownsRaw, host, isData);
            try
            {
                if (clientCertificate != null) channel.UseClientCertificate(clientCertificate);
                if (resumeFrom != null) channel.ResumeSessionOf(resumeFrom);
                channel._resuming = resumeFrom != null;
                lock (channel._sync)
                {
                    ERR_clear_error();
                    int result = SSL_do_handshake(ssl);
                    int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, result);
                    if (error is not (SSL_ERROR_NONE or SSL_ERROR_WANT_READ))
                        throw Failure(host, isData ? "opening the data connection" : "negotiating the control connection", null,
                            TakeErrors() is { Length: > 0 } errors ? errors : $"SSL error {error}");
                }
                return channel;
            }
            catch
            {
                channel.DisposeWithoutCloseNotify();
                throw;
            }
        }

        /// <summary>Sends what <see cref="Prepare"/> generated, completes the handshake and checks the certificate.
        /// On failure the channel is disposed (without close_notify).</summary>
        public async Task<OpenSslChannel> CompleteHandshakeAsync(Func<X509Certificate2?, IReadOnlyList<X509Certificate2>, FtpException?> validate, CancellationToken ct)
        {
            try
            {
                await HandshakeAsync(ct).ConfigureAwait(false);
                // A data connection that resumed the control connection's session talks to the server that made
                // it: resumption proves knowledge of that session's secret, and the session's certificate was
                // checked when the control connection was made (a TLS 1.3 resumption carries no certificate at all).
                // Only a full handshake brings a certificate that still needs the check.
                if (_resuming && SessionResumed) return this;
                var (leaf, chain) = PeerChain();
                var rejection = validate(leaf, chain);
                if (rejection != null) throw rejection;
                return this;
            }
            catch
            {
                DisposeWithoutCloseNotify();
                throw;
            }
        }

        /// <summary>Gives a channel prepared before its connection existed the connection to run on.</summary>
        public void AttachTransport(Stream raw) => _transport = raw;

        /// <summary>Drops a prepared handshake that will not be sent (the server refused the transfer).</summary>
        public void Discard() => DisposeWithoutCloseNotify();

#pragma warning disable CA1822 // uses the channel's state in the net8.0 build only (#if NET); the netstandard2.0 build refuses
        private void UseClientCertificate(X509Certificate2 certificate)
#pragma warning restore CA1822
        {
#if NET
            byte[]? key = certificate.GetRSAPrivateKey()?.ExportPkcs8PrivateKey()
                ?? certificate.GetECDsaPrivateKey()?.ExportPkcs8PrivateKey();
            if (key == null)
                throw new FtpException(FtpErrorKind.Security, "ClientCertificateUnusable",
                    $"The client certificate '{certificate.Subject}' has no exportable RSA or ECDSA private key.");
            IntPtr x509 = ParseDer(certificate.RawData, privateKey: false);
            IntPtr pkey = ParseDer(key, privateKey: true);
            try
            {
                lock (_sync)
                {
                    if (x509 == IntPtr.Zero || pkey == IntPtr.Zero || SSL_use_certificate(_ssl, x509) != 1 || SSL_use_PrivateKey(_ssl, pkey) != 1)
                        throw Failure(Host, "loading the client certificate", null, TakeErrors());
                }
            }
            finally
            {
                if (x509 != IntPtr.Zero) X509_free(x509);
                if (pkey != IntPtr.Zero) EVP_PKEY_free(pkey);
            }
#else
            throw new FtpException(FtpErrorKind.NotSupported, "ClientCertificateUnusable", "Client certificates with an IP address host need .NET 8 or later.");
#endif
        }

        private void ResumeSessionOf(OpenSslChannel control)
        {
            IntPtr session;
            lock (control._sync) session = SSL_get1_session(control._ssl);
            if (session == IntPtr.Zero) return;
            lock (_sync)
            {
                _ = SSL_set_session(_ssl, session); // a session that cannot be set only means a full handshake
                SSL_SESSION_free(session); // SSL_set_session took its own reference
            }
            OfferKeyShareOf(control);
        }

        /// <summary>A TLS 1.3 client sends a key share for its first group only (X25519 by default). A server that
        /// takes another group (vsftpd: P-256 only) answers with a HelloRetryRequest, which costs every data
        /// connection a round trip and a second key generation. The control connection already learned the
        /// server's group, so data connections offer that one first, then OpenSSL 3's default list.</summary>
        private void OfferKeyShareOf(OpenSslChannel control)
        {
            int negotiated;
            lock (control._sync) negotiated = (int)SSL_ctrl(control._ssl, SSL_CTRL_GET_NEGOTIATED_GROUP, IntPtr.Zero, IntPtr.Zero);
            int at = Array.IndexOf(DefaultGroupNids, negotiated);
            if (at <= 0) return; // the default first choice already, TLS 1.2 (no key share), or a group we do not know
            var groups = (int[])DefaultGroupNids.Clone();
            Array.Copy(groups, 0, groups, 1, at);
            groups[0] = negotiated;
            lock (_sync)
            {
                if ((int)SSL_ctrl_ints(_ssl, SSL_CTRL_SET_GROUPS, (IntPtr)groups.Length, groups) != 1) ERR_clear_error();
            }
        }

        /// <summary>OpenSSL 3's default supported_groups, as NIDs: X25519, P-256, X448, P-521, P-384, ffdhe2048..8192.</summary>
        private static readonly int[] DefaultGroupNids = { 1034, 415, 1035, 716, 715, 1126, 1127, 1128, 1129, 1130 };

        private async Task HandshakeAsync(CancellationToken ct)
        {
            while (true)
            {
                int result, error;
                lock (_sync)
                {
                    ERR_clear_error();
                    result = SSL_do_handshake(_ssl);
                    error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl, result);
                }
                string errors = error is SSL_ERROR_SSL or SSL_ERROR_SYSCALL ? TakeErrors() : "";
                await FlushOutgoingAsync(ct).ConfigureAwait(false); // includes any alert we are sending
                if (result == 1) return;
                if (error != SSL_ERROR_WANT_READ)
                    throw Failure(Host, IsData ? "opening the data connection" : "negotiating the control connection", null,
                        string.IsNullOrEmpty(errors) ? $"SSL error {error}" : errors);
                if (!await FillIncomingAsync(ct).ConfigureAwait(false))
                    throw Failure(Host, IsData ? "opening the data connection" : "negotiating the control connection", null,
                        "the server closed the connection during the handshake");
            }
        }

        /// <summary>Reads ciphertext from the transport into the read BIO; false at end of stream.</summary>
        private async Task<bool> FillIncomingAsync(CancellationToken ct)
        {
            int n = await _transport.ReadAsync(_incoming, 0, _incoming.Length, ct).ConfigureAwait(false);
            if (n == 0) return false;
            lock (_sync)
            {
                if (BIO_write(_readBio, ref _incoming[0], n) != n)
                    throw Failure(Host, "buffering received data", null, TakeErrors());
            }
            return true;
        }

        /// <summary>Sends whatever libssl queued in the write BIO (records, alerts, handshake messages).</summary>
        private async Task FlushOutgoingAsync(CancellationToken ct)
        {
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                while (true)
                {
                    int n;
                    lock (_sync)
                    {
                        if (_writeBio == IntPtr.Zero || BIO_ctrl_pending(_writeBio) == UIntPtr.Zero) break;
                        n = BIO_read(_writeBio, ref _outgoing[0], _outgoing.Length);
                    }
                    if (n <= 0) break;
                    await _transport.WriteAsync(_outgoing, 0, n, ct).ConfigureAwait(false);
                }
            }
            finally { _writeLock.Release(); }
        }

        private bool HasOutgoing()
        {
            lock (_sync) return _writeBio != IntPtr.Zero && BIO_ctrl_pending(_writeBio) != UIntPtr.Zero;
        }

        private (X509Certificate2? leaf, IReadOnlyList<X509Certificate2> chain) PeerChain()
        {
            var chain = new List<X509Certificate2>();
            X509Certificate2? leaf = null;
            lock (_sync)
            {
                IntPtr peer = SSL_get1_peer_certificate(_ssl);
                if (peer != IntPtr.Zero)
                {
                    try { var der = X509ToDer(peer); if (der != null) leaf = new X509Certificate2(der); }
                    finally { X509_free(peer); }
                }
                IntPtr stack = SSL_get_peer_cert_chain(_ssl); // not owned; empty after a resumption
                if (stack != IntPtr.Zero)
                {
                    int count = OPENSSL_sk_num(stack);
                    for (int i = 0; i < count; i++)
                    {
                        var der = X509ToDer(OPENSSL_sk_value(stack, i));
                        if (der != null) chain.Add(new X509Certificate2(der));
                    }
                }
            }
            return (leaf, chain);
        }

        public override X509Certificate2? PeerCertificate => PeerChain().leaf;

        public override string ProtocolVersion
        {
            get
            {
                string v;
                lock (_sync) v = PtrToString(SSL_get_version(_ssl)) ?? "";
                // OpenSSL says "TLSv1.3"; report it as SslStream does ("Tls13") so both backends read the same.
                return v switch { "TLSv1.3" => "Tls13", "TLSv1.2" => "Tls12", "TLSv1.1" => "Tls11", "TLSv1" => "Tls", _ => v };
            }
        }

        public override string Cipher
        {
            get { lock (_sync) return PtrToString(SSL_CIPHER_standard_name(SSL_get_current_cipher(_ssl))) ?? ""; }
        }

        public override bool SessionResumed
        {
            get { lock (_sync) return SSL_session_reused(_ssl) == 1; }
        }

        protected override async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken ct)
        {
            if (buffer.Length == 0) return 0;
            while (true)
            {
                if (CloseNotifyReceived) return 0;
                int n = DecryptAvailable(buffer, out int error, out string errors);
                if (HasOutgoing()) await FlushOutgoingAsync(ct).ConfigureAwait(false); // e.g. a KeyUpdate answer
                if (n > 0)
                {
                    _received += n;
                    return n;
                }
                switch (error)
                {
                    case SSL_ERROR_ZERO_RETURN:
                        CloseNotifyReceived = true;
                        return 0;
                    case SSL_ERROR_WANT_READ:
                        bool more;
                        try { more = await FillIncomingAsync(ct).ConfigureAwait(false); }
                        catch (IOException e)
                        {
                            throw new FtpException(FtpErrorKind.Connection, IsData ? "DataConnectionLost" : "ConnectionLost",
                                $"The {(IsData ? "data" : "control")} connection with {Host} failed after {_received} bytes: {e.Message}", inner: e);
                        }
                        if (!more) throw Truncated(_received);
                        break;
                    default:
                        throw Failure(Host, "reading", null, string.IsNullOrEmpty(errors) ? $"SSL error {error}" : errors);
                }
            }
        }

        /// <summary>Decrypts as many records as are already buffered, up to the buffer's size, so one call hands
        /// the caller a large block instead of one 16 KiB record.</summary>
        private int DecryptAvailable(Memory<byte> buffer, out int error, out string errors)
        {
            var span = buffer.Span;
            int total = 0;
            error = SSL_ERROR_NONE;
            errors = "";
            lock (_sync)
            {
                if (_ssl == IntPtr.Zero) throw new ObjectDisposedException(nameof(OpenSslChannel));
                while (total < span.Length)
                {
                    ERR_clear_error();
                    int r = SSL_read(_ssl, ref span[total], span.Length - total);
                    if (r > 0) { total += r; continue; }
                    error = SSL_get_error(_ssl, r);
                    if (error is SSL_ERROR_SSL or SSL_ERROR_SYSCALL) errors = TakeErrors();
                    break;
                }
            }
            return total;
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
            => WriteCoreAsync(new ReadOnlyMemory<byte>(buffer, offset, count), ct).AsTask();

#if NET
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => WriteCoreAsync(buffer, ct);
#endif

        private async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct)
        {
            HasWritten = true;
            int offset = 0;
            while (offset < buffer.Length)
            {
                int chunk = Math.Min(TransportChunk, buffer.Length - offset);
                Encrypt(buffer.Slice(offset, chunk));
                offset += chunk;
                await FlushOutgoingAsync(ct).ConfigureAwait(false);
            }
        }

        private void Encrypt(ReadOnlyMemory<byte> data)
        {
            var span = data.Span;
            lock (_sync)
            {
                if (_ssl == IntPtr.Zero) throw new ObjectDisposedException(nameof(OpenSslChannel));
                int done = 0;
                while (done < span.Length)
                {
                    ERR_clear_error();
                    int r = SSL_write(_ssl, ref MemoryMarshal.GetReference(span.Slice(done)), span.Length - done);
                    if (r <= 0)
                        throw Failure(Host, "sending", null, TakeErrors() is { Length: > 0 } s ? s : $"SSL error {SSL_get_error(_ssl, r)}");
                    done += r;
                }
            }
        }

        public override void Flush() => _transport.Flush();
        public override Task FlushAsync(CancellationToken ct) => _transport.FlushAsync(ct);

        public override async Task SendCloseNotifyAsync(CancellationToken ct)
        {
            if (CloseNotifySent) return;
            CloseNotifySent = true;
            lock (_sync)
            {
                if (_ssl == IntPtr.Zero) return;
                ERR_clear_error();
                _ = SSL_shutdown(_ssl);
                ERR_clear_error();
            }
            await FlushOutgoingAsync(ct).ConfigureAwait(false);
        }

        protected override Task FinishAfterCloseNotifyAsync()
            => IsData && HasWritten ? FinishGracefullyAsync(_transport) : Task.CompletedTask;

        private void DisposeWithoutCloseNotify()
        {
            CloseNotifySent = true;
            Dispose();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                if (!CloseNotifySent)
                {
                    try { SendCloseNotifyAsync(CancellationToken.None).GetAwaiter().GetResult(); }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or FtpException) { }
                    if (IsData && HasWritten) FinishGracefully(_transport);
                }
                _disposed = true;
                lock (_sync)
                {
                    if (_ssl != IntPtr.Zero) SSL_free(_ssl); // frees both BIOs too
                    _ssl = _readBio = _writeBio = IntPtr.Zero;
                }
                _writeLock.Dispose();
                if (_ownsTransport)
                {
                    // Closed first, so no read still in flight can write into a buffer that went back to the pool.
                    // (A control channel's socket belongs to the control connection: its buffers are left to the GC.)
                    _transport.Dispose();
                    ArrayPool<byte>.Shared.Return(_incoming);
                    ArrayPool<byte>.Shared.Return(_outgoing);
                }
            }
            base.Dispose(disposing);
        }
    }
}
