using System;
using System.IO;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Security.Tls
{
    /// <summary>One TLS connection (control or data), whatever library runs it. Its read side returns 0 only
    /// after the peer's close_notify; a peer that closes TCP without it makes reads throw
    /// <see cref="FtpException"/> (kind Truncated), so a cut transfer is never taken for a complete one.
    /// Disposing a data channel sends close_notify before TCP is closed.</summary>
    internal abstract class TlsChannel : Stream, IAbortableStream
    {
        protected TlsChannel(string host, bool isData)
        {
            Host = host;
            IsData = isData;
        }

        protected string Host { get; }
        protected bool IsData { get; }

        /// <summary>e.g. "Tls13", as <see cref="System.Security.Authentication.SslProtocols"/> names it.</summary>
        public abstract string ProtocolVersion { get; }

        /// <summary>The IANA name, e.g. "TLS_AES_256_GCM_SHA384".</summary>
        public abstract string Cipher { get; }

        /// <summary>True when this handshake resumed an earlier session (what require_ssl_reuse checks).</summary>
        public abstract bool SessionResumed { get; }

        /// <summary>True once the peer's close_notify has been read.</summary>
        public bool CloseNotifyReceived { get; protected set; }

        /// <summary>True once our close_notify has been sent.</summary>
        public bool CloseNotifySent { get; protected set; }

        /// <summary>True once data was written: an upload's end must reach the server, so closing waits for it.</summary>
        protected bool HasWritten { get; set; }

        /// <summary>Closing without close_notify is how TLS says "incomplete" (RFC 8446 s.6.1): the server then
        /// treats an aborted upload as truncated instead of complete.</summary>
        public void Abort() => CloseNotifySent = true;

        /// <summary>Sends close_notify; TCP stays open.</summary>
        public abstract Task SendCloseNotifyAsync(CancellationToken ct);

        /// <summary>Ends the connection the way <see cref="Stream.Dispose()"/> would (close_notify, and after an upload
        /// the wait for the server's end), but without holding a thread while waiting: Dispose is synchronous and
        /// waits up to seconds for the peer, and a process with many transfers finishing at once (200 sessions, or an
        /// embedded server in the same process) then starves its thread pool, so the peers it waits for, served by
        /// that pool, stall (data connections timed out under load). Dispose afterwards only frees.</summary>
        public async Task CloseAsync()
        {
            if (CloseNotifySent) return;
            try { await SendCloseNotifyAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or FtpException) { CloseNotifySent = true; return; }
            await FinishAfterCloseNotifyAsync().ConfigureAwait(false);
        }

        /// <summary>What follows our close_notify on a data connection (see <see cref="FinishGracefullyAsync"/>).</summary>
        protected virtual Task FinishAfterCloseNotifyAsync() => Task.CompletedTask;

        /// <summary>CCC (RFC 4217 s.11): sends close_notify and waits for the server's, without reading a byte
        /// past it, so the cleartext that follows on the same TCP connection is left for the reply reader.</summary>
        public async Task CloseTlsKeepTcpAsync(CancellationToken ct)
        {
            if (!CloseNotifySent) await SendCloseNotifyAsync(ct).ConfigureAwait(false);
            var scratch = new byte[256];
            while (!CloseNotifyReceived)
            {
                int n = await ReadAsync(scratch, 0, scratch.Length, ct).ConfigureAwait(false);
                if (n > 0)
                    throw new FtpException(FtpErrorKind.Protocol, "DataAfterCcc",
                        $"{Host} sent {n} bytes of protected data after accepting CCC instead of closing TLS.");
            }
        }

        /// <summary>Ends a data connection gracefully after our close_notify: shuts down our sending side and reads
        /// until the server closes. Done after an upload: closing a socket with unread bytes in it (a TLS 1.3
        /// NewSessionTicket that an upload never reads, say) makes the kernel send RST instead of FIN, and an RST
        /// makes the server drop the end of an upload it has not read yet (vsftpd then answers 426). A download that
        /// reached the server's close_notify has nothing left to read (TLS sends nothing after it), so it closes at
        /// once instead of waiting a round trip for the server's FIN, once per file; a download abandoned midway
        /// (ABOR, cancel) closes at once too.</summary>
        protected static void FinishGracefully(Stream transport) => FinishGracefullyAsync(transport).GetAwaiter().GetResult();

        /// <inheritdoc cref="FinishGracefully"/>
        protected static async Task FinishGracefullyAsync(Stream transport)
        {
            try
            {
#if NET
                if (Unwrap(transport) is System.Net.Sockets.NetworkStream network) network.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
#endif
                using var limit = new CancellationTokenSource(GracefulCloseWait);
                using var reg = limit.Token.Register(transport.Dispose);
                var scratch = new byte[16384];
                while (await transport.ReadAsync(scratch, 0, scratch.Length, limit.Token).ConfigureAwait(false) > 0) { }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException) { }
        }

        private static readonly TimeSpan GracefulCloseWait = TimeSpan.FromSeconds(5);

        private static Stream Unwrap(Stream s) => s is EofWatchingStream w ? w.Inner : s;

        protected FtpException Truncated(long received)
            => new CloseNotifyMissingException(
                IsData
                    ? $"The data connection from {Host} was closed without a TLS close_notify after {received} bytes: the transfer may be incomplete (truncated by the network or an attacker)."
                    : $"The control connection to {Host} was closed without a TLS close_notify.");

        protected static FtpException Failure(string host, string what, Exception? inner, string? detail = null)
            => new FtpException(FtpErrorKind.Security, "TlsFailure",
                $"TLS with {host} failed while {what}: {detail ?? inner?.Message ?? "unknown error"}", inner: inner);

        // ---- Stream plumbing common to both backends ----

        /// <summary>Reads decrypted bytes: 0 only after the peer's close_notify; a TCP close without it throws
        /// <see cref="CloseNotifyMissingException"/>. Every Read overload comes here.</summary>
        protected abstract ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken ct);

        public sealed override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
            => ReadCoreAsync(new Memory<byte>(buffer, offset, count), ct).AsTask();

#if NET
        public sealed override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ReadCoreAsync(buffer, ct);
#endif

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public abstract X509Certificate2? PeerCertificate { get; }
    }

    /// <summary>The peer closed TCP without close_notify: a truncation to TLS. An <see cref="UnsignalledEndException"/>,
    /// so the client can tell it from a reset and accept it only where the transfer's length is proved another way.</summary>
    internal sealed class CloseNotifyMissingException : UnsignalledEndException
    {
        public CloseNotifyMissingException(string message) : base("a TLS close_notify", message) { }
    }
}
