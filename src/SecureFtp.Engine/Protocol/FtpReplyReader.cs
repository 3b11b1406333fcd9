using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Protocol
{
    /// <summary>A strict, bounded RFC 959 reply parser. A hostile or broken server cannot make it allocate
    /// without limit: lines and replies are capped, and anything that is not a reply is an error. (Time is bounded
    /// by the caller: <see cref="FtpControlConnection.ReadReplyAsync"/> gives one whole reply one timeout.)</summary>
    public sealed class FtpReplyReader
    {
        public const int MaxLineBytes = 8192;
        /// <summary>The default for <see cref="MaxLines"/>.</summary>
        public const int MaxLinesPerReply = 20000;
        /// <summary>The default for <see cref="MaxBytes"/>.</summary>
        public const int MaxReplyBytes = 1 << 20;

        /// <summary>The most lines one multi-line reply may have (a "211-" that never ends is refused here).</summary>
        public int MaxLines { get; set; } = MaxLinesPerReply;

        /// <summary>The most bytes one reply may have, line ends included.</summary>
        public int MaxBytes { get; set; } = MaxReplyBytes;

        private long _replyBytes;
        private int _replyLines;

        /// <summary>How much of the reply being read has arrived so far (complete lines plus anything buffered):
        /// tells a server that said nothing from one that is dripping a reply slowly.</summary>
        public long ReplyBytesReceived => _replyBytes + BufferedBytes;

        /// <summary>Complete lines of the reply being read that have arrived so far.</summary>
        public int ReplyLinesReceived => _replyLines;

        private Stream _stream;
        private readonly byte[] _buffer = new byte[16384];
        private int _start, _end;
        private readonly Encoding _encoding;

        public FtpReplyReader(Stream stream, Encoding encoding)
        {
            _stream = stream;
            _encoding = encoding;
        }

        /// <summary>Bytes received but not yet consumed as reply lines.</summary>
        public int BufferedBytes => _end - _start;

        public void ReplaceStream(Stream stream)
        {
            // Anything already buffered arrived in cleartext before the switch (RFC 4217 s.4: an attacker
            // could inject "replies" behind a 234). Refuse rather than silently use or drop it.
            if (BufferedBytes > 0)
                throw new FtpException(FtpErrorKind.Security, "DataAfterSecurityReply",
                    $"The server sent {BufferedBytes} unexpected bytes after the reply that started the security exchange; they may have been injected. The connection is closed.");
            _stream = stream;
        }

        /// <summary>Reads one line (without CR/LF), or null at a clean end of stream.</summary>
        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            int scanFrom = _start;
            while (true)
            {
                int nl = Array.IndexOf(_buffer, (byte)'\n', scanFrom, _end - scanFrom);
                if (nl >= 0)
                {
                    int len = nl - _start;
                    if (len > MaxLineBytes)
                        throw new FtpException(FtpErrorKind.Protocol, "ReplyLineTooLong", $"The server sent a reply line longer than {MaxLineBytes} bytes.");
                    if (len > 0 && _buffer[nl - 1] == '\r') len--;
                    var line = _encoding.GetString(_buffer, _start, len);
                    _replyBytes += nl + 1 - _start;
                    _replyLines++;
                    _start = nl + 1;
                    return line;
                }
                if (_end - _start >= MaxLineBytes)
                    throw new FtpException(FtpErrorKind.Protocol, "ReplyLineTooLong", $"The server sent a reply line longer than {MaxLineBytes} bytes.");
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                scanFrom = _end;
                int n = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    if (_end > _start)
                        throw new FtpException(FtpErrorKind.Connection, "ConnectionClosed", "The server closed the control connection in the middle of a reply line.");
                    return null;
                }
                _end += n;
            }
        }

        /// <summary>Reads one complete reply, single- or multi-line.</summary>
        public async Task<FtpReply> ReadReplyAsync(CancellationToken ct)
        {
            _replyBytes = 0;
            _replyLines = 0;
            var first = await ReadLineAsync(ct).ConfigureAwait(false)
                ?? throw new FtpException(FtpErrorKind.Connection, "ConnectionClosed", "The server closed the control connection.");
            if (!TryParseCode(first, out int code, out char sep))
                throw new FtpException(FtpErrorKind.Protocol, "MalformedReply", $"The server sent something that is not an FTP reply: '{Shorten(first)}'.");
            var lines = new List<string> { first.Length > 4 ? first.Substring(4) : string.Empty };
            if (sep != '-') return new FtpReply(code, lines);

            while (true)
            {
                var line = await ReadLineAsync(ct).ConfigureAwait(false)
                    ?? throw new FtpException(FtpErrorKind.Connection, "ConnectionClosed", $"The server closed the control connection inside a multi-line {code} reply.");
                // Checked line by line, so an endless "211-" costs at most these limits in memory, never more.
                if (_replyLines > MaxLines || _replyBytes > MaxBytes)
                    throw new FtpException(FtpErrorKind.Protocol, "ReplyTooLong",
                        $"The server's multi-line {code} reply did not end within {MaxLines} lines or {MaxBytes} bytes ({_replyLines} lines, {_replyBytes} bytes received): an endless or oversized reply was refused.");
                // RFC 959: the reply ends at a line starting with the same code followed by a space.
                bool coded = TryParseCode(line, out int c2, out char s2) && c2 == code;
                if (coded && s2 == ' ')
                {
                    lines.Add(line.Length > 4 ? line.Substring(4) : string.Empty);
                    return new FtpReply(code, lines);
                }
                // Intermediate lines: "123-text" repeats the code; others carry text as-is (FEAT indents).
                lines.Add(coded && s2 == '-' ? line.Substring(4) : line);
            }
        }

        internal static bool TryParseCode(string line, out int code, out char sep)
        {
            code = 0; sep = '\0';
            if (line.Length < 3) return false;
            char a = line[0], b = line[1], c = line[2];
            if (a < '1' || a > '6' || b < '0' || b > '9' || c < '0' || c > '9') return false;
            if (line.Length > 3)
            {
                sep = line[3];
                if (sep != ' ' && sep != '-') return false;
            }
            else sep = ' ';
            code = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
            return true;
        }

        private static string Shorten(string s) => s.Length > 80 ? s.Substring(0, 80) + "..." : s;
    }
}
