using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>RFC 2228 s.9 protected data on one data connection: a sequence of blocks, each a 32-bit big-endian
    /// length and a token that the mechanism's data transform produced; an empty plaintext block marks the end of
    /// the file. Used unchanged by the client and the server.</summary>
    /// <remarks>
    /// Reading returns 0 only after the end-of-file block arrived. A connection that closes before it is a
    /// truncated transfer (<see cref="FtpErrorKind.Truncated"/>, "TransferTruncated"); a token that fails the
    /// mechanism's check is an attack or corruption (<see cref="FtpErrorKind.Security"/>).
    /// Writing buffers plaintext into blocks whose tokens fit the negotiated PBSZ. <see cref="Dispose(bool)"/> on a
    /// stream that was not read from sends the last block and the end-of-file block: that is how a sender says
    /// "complete". A sender that failed half-way calls <see cref="Abort"/> first so the peer never takes a partial
    /// file for a whole one.
    /// A server must hold the 226 for an upload until <see cref="ReachedEndOfFile"/> (the SafeTP paper, s.5.4), and for a
    /// download until it disposed the stream.</remarks>
    public sealed class ProtectedDataStream : Stream, IAbortableStream
    {
        private readonly Stream _raw;
        private readonly Func<ITransform> _createSender;
        private readonly Func<ITransform> _createReceiver;
        private readonly int _maxTokenSize;
        private readonly byte[] _lengthBuffer = new byte[4];
        private ITransform? _sender;
        private ITransform? _receiver;
        private byte[]? _plainOut;
        private int _plainOutCount;
        private int _maxPlainPerBlock;
        private byte[] _plainIn = Array.Empty<byte>();
        private int _plainInOffset;
        private bool _aborted;
        private bool _completed;
        private bool _disposed;

        /// <param name="raw">The data connection.</param>
        /// <param name="createSender">Makes the mechanism's transform for data we send (called on the first write).</param>
        /// <param name="createReceiver">Makes the transform for data we receive (called on the first read).</param>
        /// <param name="bufferSize">The negotiated PBSZ: no token on the wire, in either direction, is larger.</param>
        public ProtectedDataStream(Stream raw, Func<ITransform> createSender, Func<ITransform> createReceiver, int bufferSize)
        {
            if (bufferSize < 64) throw new ArgumentOutOfRangeException(nameof(bufferSize), "A protection buffer under 64 bytes cannot hold a protected block.");
            _raw = raw;
            _createSender = createSender;
            _createReceiver = createReceiver;
            _maxTokenSize = bufferSize;
        }

        /// <summary>True once the peer's end-of-file block arrived: the transfer is complete and authentic.</summary>
        public bool ReachedEndOfFile { get; private set; }

        /// <summary>Marks the transfer as failed: disposing will not send an end-of-file block.</summary>
        public void Abort() => _aborted = true;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (count == 0) return 0;
            while (_plainInOffset >= _plainIn.Length)
            {
                if (ReachedEndOfFile) return 0;
                _receiver ??= _createReceiver();
                var token = await ReadTokenAsync(cancellationToken).ConfigureAwait(false);
                _plainIn = DecodeBlock(token);
                _plainInOffset = 0;
                if (_plainIn.Length == 0) ReachedEndOfFile = true;
            }
            int n = Math.Min(count, _plainIn.Length - _plainInOffset);
            Buffer.BlockCopy(_plainIn, _plainInOffset, buffer, offset, n);
            _plainInOffset += n;
            return n;
        }

        private byte[] DecodeBlock(byte[] token)
        {
            try
            {
                return _receiver!.Decode(new ArraySegment<byte>(token));
            }
            catch (FtpException) { throw; }
            catch (Exception e)
            {
                throw new FtpException(FtpErrorKind.Security, "ProtectedBlockRejected", $"A protected data block failed its check ({e.Message}); the transfer was altered on the way.", inner: e);
            }
        }

        private async Task<byte[]> ReadTokenAsync(CancellationToken ct)
        {
            await ReadExactlyAsync(_lengthBuffer, ct).ConfigureAwait(false);
            uint length = (uint)(_lengthBuffer[0] << 24 | _lengthBuffer[1] << 16 | _lengthBuffer[2] << 8 | _lengthBuffer[3]);
            if (length == 0 || length > (uint)_maxTokenSize)
                throw new FtpException(FtpErrorKind.Security, "ProtectedBlockSize",
                    $"The peer sent a protected data block of {length} bytes; the negotiated protection buffer (PBSZ) is {_maxTokenSize}.");
            var token = new byte[length];
            await ReadExactlyAsync(token, ct).ConfigureAwait(false);
            return token;
        }

        private async Task ReadExactlyAsync(byte[] target, CancellationToken ct)
        {
            int read = 0;
            while (read < target.Length)
            {
                int n = await _raw.ReadAsync(target, read, target.Length - read, ct).ConfigureAwait(false);
                if (n == 0)
                    throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated",
                        "The data connection closed before the end-of-file block: the transfer is incomplete (truncated or cut by someone on the path).");
                read += n;
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            EnsureSender();
            while (count > 0)
            {
                int n = Math.Min(count, _maxPlainPerBlock - _plainOutCount);
                Buffer.BlockCopy(buffer, offset, _plainOut!, _plainOutCount, n);
                _plainOutCount += n;
                offset += n;
                count -= n;
                if (_plainOutCount == _maxPlainPerBlock)
                    await SendBlockAsync(_plainOutCount, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Sends what is buffered as a block (never the end-of-file block: that is for Dispose).</summary>
        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_plainOutCount > 0) await SendBlockAsync(_plainOutCount, cancellationToken).ConfigureAwait(false);
            await _raw.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

        private void EnsureSender()
        {
            if (_sender != null) return;
            _sender = _createSender();
            int n = _sender.MaximumDecodedSize(_maxTokenSize);
            while (n > 0 && _sender.MaximumEncodedSize(n) > _maxTokenSize) n--;
            if (n <= 0)
                throw new FtpException(FtpErrorKind.Protocol, "ProtectionBufferTooSmall", $"The protection buffer size {_maxTokenSize} is too small for one protected block.");
            _maxPlainPerBlock = n;
            _plainOut = new byte[n];
        }

        private async Task SendBlockAsync(int count, CancellationToken ct)
        {
            var token = _sender!.Encode(new ArraySegment<byte>(_plainOut!, 0, count));
            if (token.Length > _maxTokenSize)
                throw new FtpException(FtpErrorKind.Protocol, "ProtectedBlockSize", $"The mechanism produced a {token.Length}-byte block, over the negotiated buffer size {_maxTokenSize}.");
            var frame = new byte[4 + token.Length];
            frame[0] = (byte)(token.Length >> 24);
            frame[1] = (byte)(token.Length >> 16);
            frame[2] = (byte)(token.Length >> 8);
            frame[3] = (byte)token.Length;
            Buffer.BlockCopy(token, 0, frame, 4, token.Length);
            _plainOutCount = 0;
            await _raw.WriteAsync(frame, 0, frame.Length, ct).ConfigureAwait(false);
        }

        /// <summary>Sends the last partial block and the end-of-file block. Called by Dispose on the sending side;
        /// callers that want to await it (and see its errors) call it first.</summary>
        public async Task CompleteAsync(CancellationToken ct)
        {
            EnsureSender();
            if (_plainOutCount > 0) await SendBlockAsync(_plainOutCount, ct).ConfigureAwait(false);
            await SendBlockAsync(0, ct).ConfigureAwait(false);
            await _raw.FlushAsync(ct).ConfigureAwait(false);
            _completed = true;
        }

        protected override void Dispose(bool disposing)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                if (disposing && !_aborted && !_completed && _receiver == null)
                    CompleteAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            finally
            {
                if (disposing) _raw.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
