using System;
using System.IO;
using System.Net.Security;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Server
{
    /// <summary>A data stream whose end of input is checked before it is believed: reading returns 0 only when
    /// <c>verifyEnd</c> accepts how the peer ended (TLS close_notify, an RFC 2228 end-of-file block with nothing after
    /// it); otherwise reading throws <see cref="FtpErrorKind.Truncated"/>. An upload cut by the network or by an
    /// attacker who forged a TCP FIN (RFC 4217 s.12.6, the SafeTP paper s.5.4) is then a failed transfer, in root
    /// mode and in proxy mode alike, never a complete short file.</summary>
    internal sealed class VerifiedEndStream : Stream
    {
        private readonly Stream _inner;
        private readonly Func<CancellationToken, Task> _verifyEnd;
        private bool _verified;

        public VerifiedEndStream(Stream inner, Func<CancellationToken, Task> verifyEnd)
        {
            _inner = inner;
            _verifyEnd = verifyEnd;
        }

        public Stream Inner => _inner;

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (count == 0) return 0;
            int n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            if (n == 0 && !_verified)
            {
                await _verifyEnd(cancellationToken).ConfigureAwait(false);
                _verified = true;
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
        public override void Flush() => _inner.Flush();
        public override bool CanRead => true;
        public override bool CanWrite => _inner.CanWrite;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }

        /// <summary>After an RFC 2228 end-of-file block: the client closes, or at least sends nothing more. Bytes that
        /// arrive within a short wait make the upload incomplete; a client that keeps the connection open is given
        /// the benefit of the doubt after that wait.</summary>
        public static async Task NothingAfterEndOfFileAsync(Stream raw, CancellationToken ct)
        {
            var probe = new byte[1];
            int n;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                wait.CancelAfter(TimeSpan.FromSeconds(2));
                try { n = await raw.ReadAsync(probe, 0, 1, wait.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return; }
                catch (IOException) { return; }
            }
            if (n > 0) throw Truncated("The client sent data after the end-of-file block: the upload is not complete as sent.");
        }

        public static FtpException Truncated(string why)
            => new FtpException(FtpErrorKind.Truncated, "UploadTruncated", why);
    }

    /// <summary>Sits between the socket and <see cref="SslStream"/> on a data connection and follows the TLS record
    /// headers the client sends, so the server can tell an upload that ended with close_notify from one whose TCP
    /// connection just closed. SslStream reports both as the end of the stream and has no API to tell them apart.
    /// TLS 1.2 (what data connections use whenever the configuration allows it, <see cref="TlsServer.DataConnectionProtocols"/>)
    /// shows the alert record type in the clear. TLS 1.3 hides it: there the last record must have the size of an
    /// encrypted alert (2 bytes, the inner type and a 16-byte AEAD tag: 19 bytes), the best a server outside the TLS
    /// library can check.</summary>
    internal sealed class TlsRecordWatcher : Stream
    {
        private const byte AlertRecord = 21;
        private const byte ApplicationDataRecord = 23;
        private const int Tls13EncryptedAlertLength = 2 + 1 + 16;

        private readonly Stream _inner;
        private readonly byte[] _header = new byte[5];
        private int _headerFill;
        private int _bodyLeft;
        private byte _lastType;
        private int _lastLength;

        public TlsRecordWatcher(Stream inner) { _inner = inner; }

        /// <summary>True when the last complete record the client sent was its close_notify.</summary>
        public bool EndedWithAlert(SslStream tls)
        {
            if (_headerFill != 0 || _bodyLeft != 0) return false;
            if (_lastType == AlertRecord) return true;
#pragma warning disable SYSLIB0039 // the protocol is only compared, never chosen
            bool tls13 = (int)tls.SslProtocol == 12288;
#pragma warning restore SYSLIB0039
            return tls13 && _lastType == ApplicationDataRecord && _lastLength == Tls13EncryptedAlertLength;
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            int n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            Follow(buffer, offset, n);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _inner.Read(buffer, offset, count);
            Follow(buffer, offset, n);
            return n;
        }

        private void Follow(byte[] buffer, int offset, int count)
        {
            int i = offset, end = offset + count;
            while (i < end)
            {
                if (_bodyLeft > 0)
                {
                    int skip = Math.Min(_bodyLeft, end - i);
                    _bodyLeft -= skip;
                    i += skip;
                    continue;
                }
                _header[_headerFill++] = buffer[i++];
                if (_headerFill < 5) continue;
                _headerFill = 0;
                _lastType = _header[0];
                _lastLength = (_header[3] << 8) | _header[4];
                _bodyLeft = _lastLength;
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
        public override void Flush() => _inner.Flush();
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
