using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Protocol
{
    /// <summary>The control connection: one TCP socket, a transport stream that a security mechanism may
    /// replace (TLS) or protect command by command (RFC 2228), and request/reply with timeouts.</summary>
    public sealed class FtpControlConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly FtpReplyReader _reader;
        private readonly SemaphoreSlim _lock = new SemaphoreSlim(1, 1);
        private Stream _transport;

        /// <summary>The name or address the user asked for (used for TLS names and trust-store lookups).</summary>
        public string Host { get; }
        public int Port { get; }
        public Encoding Encoding { get; set; }

        /// <summary>How long one whole reply may take to arrive, from the moment it is awaited to its last line: a
        /// total, not a per-read limit, so a server that drips a byte every few seconds is not waited on forever.</summary>
        public TimeSpan Timeout { get; set; }

        /// <summary>How many preliminary (1xx) replies may come before a command's final reply (see
        /// <see cref="ReadFinalReplyAsync"/>); a server that answers 150 forever is given up on after that many.</summary>
        public int MaxPreliminaryReplies { get; set; } = DefaultMaxPreliminaryReplies;

        public const int DefaultMaxPreliminaryReplies = 10;

        /// <summary>The most lines one reply may have (<see cref="FtpReplyReader.MaxLines"/>).</summary>
        public int MaxReplyLines { get => _reader.MaxLines; set => _reader.MaxLines = value; }

        /// <summary>The most bytes one reply may have (<see cref="FtpReplyReader.MaxBytes"/>).</summary>
        public int MaxReplyBytes { get => _reader.MaxBytes; set => _reader.MaxBytes = value; }

        /// <summary>Receives every line sent and received, credentials already redacted. Direction: true = sent.</summary>
        public Action<bool, string>? Trace { get; set; }

        /// <summary>RFC 2228 command protection (ENC/MIC/CONF), installed by an ADAT mechanism.</summary>
        public IControlChannelProtection? Protection { get; set; }

        /// <summary>Observes every command line (before protection) and reply, for DIGT (the SafeTP paper, s.5.10).</summary>
        public Action<string, FtpReply?>? Transcript { get; set; }

        public Socket Socket => _socket;
        public Stream Transport => _transport;
        public IPEndPoint RemoteEndPoint => (IPEndPoint)_socket.RemoteEndPoint!;
        public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;
        public bool IsConnected => _socket.Connected;

        private FtpControlConnection(Socket socket, string host, int port, Encoding encoding, TimeSpan timeout)
        {
            _socket = socket;
            Host = host;
            Port = port;
            Encoding = encoding;
            Timeout = timeout;
            _transport = new NetworkStream(socket, ownsSocket: false);
            _reader = new FtpReplyReader(_transport, encoding);
        }

        /// <summary>Opens the TCP connection (no greeting is read here: implicit TLS must wrap first).</summary>
        public static async Task<FtpControlConnection> OpenAsync(string host, int port, TimeSpan timeout, Encoding encoding, CancellationToken ct)
        {
            var socket = await SocketConnector.ConnectAsync(host, port, timeout, ct).ConfigureAwait(false);
            return new FtpControlConnection(socket, host, port, encoding, timeout);
        }

        /// <summary>Wraps an already-connected socket (server side and tests).</summary>
        public static FtpControlConnection FromSocket(Socket socket, string host, Encoding encoding, TimeSpan timeout)
            => new FtpControlConnection(socket, host, ((IPEndPoint)socket.RemoteEndPoint!).Port, encoding, timeout);

        /// <summary>Switches the transport (after AUTH TLS, implicit TLS, or back after CCC).</summary>
        public void ReplaceTransport(Stream newTransport)
        {
            _reader.ReplaceStream(newTransport);
            _transport = newTransport;
        }

        public Task SendAsync(string line, CancellationToken ct) => SendAsync(new[] { line }, ct);

        /// <summary>Sends several commands in one write (pipelining); the caller reads one reply for each, in order.</summary>
        public async Task SendAsync(IReadOnlyList<string> lines, CancellationToken ct)
        {
            var wire = new StringBuilder();
            foreach (var line in lines)
            {
                FtpCommand.CheckArgument(line, "command");
                Transcript?.Invoke(line, null);
                wire.Append(Protection != null ? Protection.ProtectCommand(line) : line).Append("\r\n");
                Trace?.Invoke(true, FtpCommand.Redact(line));
            }
            var bytes = Encoding.GetBytes(wire.ToString());
            await WithTimeout(c => _transport.WriteAsync(bytes, 0, bytes.Length, c), "sending " + FtpCommand.Verb(lines[0]), ct).ConfigureAwait(false);
            await WithTimeout(c => _transport.FlushAsync(c), "sending " + FtpCommand.Verb(lines[0]), ct).ConfigureAwait(false);
        }

        public async Task<FtpReply> ReadReplyAsync(CancellationToken ct)
        {
            FtpReply reply;
            try
            {
                reply = await WithTimeout(c => _reader.ReadReplyAsync(c), "a reply", ct).ConfigureAwait(false);
            }
            catch (FtpException e) when (e.ErrorId == "ControlTimeout" && _reader.ReplyBytesReceived > 0)
            {
                // Part of a reply came, but not all of it in time: a server dripping bytes so that no single read
                // times out. Said as such, so the user does not look for a silent server.
                throw new FtpException(FtpErrorKind.Timeout, "SlowReply",
                    $"{Host}:{Port} began a reply but had not finished it after {Timeout.TotalSeconds:0.#} s ({_reader.ReplyBytesReceived} bytes in {_reader.ReplyLinesReceived} complete lines so far): " +
                    "a server that slow, or one dripping bytes to hold the session open, is given up on. The connection is closed.", inner: e);
            }
            catch (FtpException e) when (e.Kind == FtpErrorKind.Protocol)
            {
                // Malformed, endless or oversized replies leave the conversation out of step: nothing read after
                // them could be trusted to answer the next command, so the connection ends here.
                try { _socket.Dispose(); } catch { }
                throw;
            }
            if (Protection != null)
            {
                if (reply.IsProtected)
                    reply = Protection.UnprotectReply(reply).WithProtected();
                else if (Protection.RequireProtectedReplies)
                    throw new FtpException(FtpErrorKind.Security, "UnprotectedReply",
                        $"The server sent an unprotected reply ({reply.Code}) on a protected control channel; it may have been injected.", reply);
            }
            Trace?.Invoke(false, reply.ToString());
            Transcript?.Invoke(string.Empty, reply);
            return reply;
        }

        /// <summary>Reads on from <paramref name="reply"/> past preliminary (1xx) replies to the command's final one,
        /// at most <see cref="MaxPreliminaryReplies"/> of them, each bounded by <see cref="Timeout"/>.</summary>
        public async Task<FtpReply> ReadFinalReplyAsync(FtpReply reply, string command, CancellationToken ct)
        {
            int preliminaries = 0;
            while (reply.IsPreliminary)
            {
                if (++preliminaries > MaxPreliminaryReplies)
                {
                    try { _socket.Dispose(); } catch { }
                    throw new FtpException(FtpErrorKind.Protocol, "TooManyPreliminaryReplies",
                        $"{Host}:{Port} answered {FtpCommand.Verb(command)} with more than {MaxPreliminaryReplies} preliminary (1xx) replies and no final one (the last: {reply.Code} {reply.Message}). The connection is closed.", reply);
                }
                reply = await ReadReplyAsync(ct).ConfigureAwait(false);
            }
            return reply;
        }

        /// <summary>Sends a command and reads its reply, skipping nothing: a 1xx preliminary reply is returned
        /// as-is so data-transfer callers can wait for the completion reply themselves.</summary>
        public async Task<FtpReply> ExecuteAsync(string line, CancellationToken ct)
        {
            await _lock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await SendAsync(line, ct).ConfigureAwait(false);
                return await ReadReplyAsync(ct).ConfigureAwait(false);
            }
            finally { _lock.Release(); }
        }

        /// <summary>Runs an operation with this connection's timeout; on expiry the error says what was awaited.</summary>
        public async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> op, string what, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Timeout);
            // netstandard2.0 sockets ignore cancellation tokens; closing the socket is what unblocks them.
            using var reg = cts.Token.Register(() => { if (!ct.IsCancellationRequested) { try { _socket.Dispose(); } catch { } } });
            try
            {
                return await op(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or SocketException && cts.IsCancellationRequested)
            {
                ct.ThrowIfCancellationRequested();
                throw new FtpException(FtpErrorKind.Timeout, "ControlTimeout",
                    $"No answer from {Host}:{Port} while waiting for {what} ({Timeout.TotalSeconds:0.#} s).", inner: e);
            }
            catch (IOException e)
            {
                throw new FtpException(FtpErrorKind.Connection, "ConnectionLost", $"The control connection to {Host}:{Port} failed while waiting for {what}: {e.Message}", inner: e);
            }
        }

        public Task WithTimeout(Func<CancellationToken, Task> op, string what, CancellationToken ct)
            => WithTimeout<bool>(async c => { await op(c).ConfigureAwait(false); return true; }, what, ct);

        public void Dispose()
        {
            try { _transport.Dispose(); } catch { }
            try { _socket.Dispose(); } catch { }
            _lock.Dispose();
        }
    }
}
