using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp
{
    // The hooks the client proxy (ClientProxy/) drives an upstream session with. The proxy speaks for a legacy client
    // it cannot change: it opens and secures the session exactly as ConnectAsync does, then passes the legacy client's
    // own commands through, and opens each data connection the engine's way (protected, verified at its end).
    public sealed partial class FtpClient
    {
        /// <summary>Connects and negotiates security as <see cref="ConnectAsync"/> does (same policy, trust store,
        /// mechanisms, certificate checks) but stops before the login: the caller sends USER and PASS with
        /// <see cref="RelayLoginAsync"/> once it has them. Any refusal (a changed or unknown key, a failed
        /// certificate check, no mechanism under policy Refuse) throws here, before any credential exists.</summary>
        internal static async Task<FtpClient> ConnectSecuredForRelayAsync(FtpClientOptions options, CancellationToken ct)
        {
            if (string.IsNullOrWhiteSpace(options.Host))
                throw new ArgumentException("A host name or address is required.", nameof(options));
            var client = new FtpClient(options.Clone());
            try
            {
                await client.OpenAndSecureAsync(greetingExpected: true, ct).ConfigureAwait(false);
                return client;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        /// <summary>The greeting as the server sent it, line by line.</summary>
        internal IReadOnlyList<string> GreetingLines => (Greeting ?? "").Split('\n');

        /// <summary>Sends a login command (USER, PASS, ACCT) of the legacy client on the secured control connection and
        /// returns the server's reply. When it completes the login (230/202), the data protection of the session is
        /// set as at connect time (PBSZ/PROT), so every transfer after it is protected.</summary>
        internal async Task<FtpReply> RelayLoginAsync(string line, CancellationToken ct)
        {
            var reply = await Control.ExecuteAsync(line, ct).ConfigureAwait(false);
            if (reply.Code is 230 or 202)
            {
                string verb = FtpCommand.Verb(line);
                if (verb == "USER") UserName = line.Length > 5 ? line.Substring(5) : "";
                await ApplyInitialProtectionAsync(ct).ConfigureAwait(false);
            }
            else if (reply.Code == 331 && FtpCommand.Verb(line) == "USER") UserName = line.Length > 5 ? line.Substring(5) : "";
            return reply;
        }

        /// <summary>Sends one command that opens no data connection and returns its replies: any 1xx, then the final one.</summary>
        internal async Task<IReadOnlyList<FtpReply>> RelayCommandAsync(string line, CancellationToken ct)
        {
            // The legacy client may change the type (TYPE A for a listing): the engine must not assume binary after it.
            if (FtpCommand.Verb(line) == "TYPE") _currentType = null;
            var replies = new List<FtpReply>(1);
            var reply = await Control.ExecuteAsync(line, ct).ConfigureAwait(false);
            replies.Add(reply);
            while (reply.IsPreliminary)
            {
                reply = await Control.ReadReplyAsync(ct).ConfigureAwait(false);
                replies.Add(reply);
            }
            return replies;
        }

        /// <summary>Opens the data connection for <paramref name="command"/> (RETR, STOR, LIST...) as every transfer of
        /// this engine does: EPSV/PASV or EPRT/PORT per the options, REST when <paramref name="restartAt"/> &gt; 0,
        /// the command, and the data protection of the session. Throws <see cref="FtpException"/> (with the server's
        /// reply when it refused) like the engine's own transfers.</summary>
        internal async Task<RelayDataTransfer> OpenRelayTransferAsync(string command, long restartAt, CancellationToken ct)
        {
            var transfer = await OpenDataTransferAsync(command, restartAt, ct).ConfigureAwait(false);
            return new RelayDataTransfer(this, transfer, restartAt);
        }

        /// <summary>One upstream transfer opened for the proxy: read or write <see cref="Stream"/>, then
        /// <see cref="CompleteAsync"/> (the server's final reply, with the end of the data verified) or
        /// <see cref="AbortAsync"/>.</summary>
        internal sealed class RelayDataTransfer : IDisposable
        {
            private readonly FtpClient _client;
            private readonly DataTransfer _transfer;
            private readonly long _restartAt;
            private long _received;

            // DataTransfer is private to FtpClient, so the internal constructor takes it untyped.
            internal RelayDataTransfer(FtpClient client, object transfer, long restartAt)
            {
                _client = client;
                _transfer = (DataTransfer)transfer;
                _restartAt = restartAt;
            }

            /// <summary>The server's 1xx reply; null when it completed the command without a data connection.</summary>
            public FtpReply? Preliminary => _transfer.Preliminary;

            /// <summary>True when the server answered 2xx at once and opened no data connection.</summary>
            public bool CompletedEarly => _transfer.CompletedEarly;

            /// <summary>The protected data stream (decrypted and verified when read).</summary>
            public Stream Stream => _transfer.Stream ?? throw new InvalidOperationException("The transfer has no data connection.");

            public long BytesReceived => _received;

            /// <summary>Reads from the server, under the data timeout; 0 at the end (judged in <see cref="CompleteAsync"/>).
            /// A broken connection throws Truncated.</summary>
            public async Task<int> ReadAsync(byte[] buffer, CancellationToken ct)
            {
                int n = await _client.ReadDataAsync(_transfer, buffer, ct).ConfigureAwait(false);
                _received += n;
                return n;
            }

            /// <summary>Closes the data connection (protected end first: close_notify, the last protected block), reads the
            /// server's completion reply and checks that the data that came down was whole: a TLS end without close_notify
            /// is accepted only when the size the server announced arrived, and a download shorter than the size in the
            /// 150 reply is Truncated. Returns the server's reply (226/250); throws <see cref="FtpException"/>
            /// with the server's reply when it reported a failure, Truncated when the data was cut.</summary>
            public async Task<FtpReply> CompleteAsync(bool download, CancellationToken ct)
            {
                if (_transfer.CompletedEarly) return new FtpReply(226, new[] { "Transfer complete." });
                FtpReply reply;
                try
                {
                    try { _transfer.Stream!.Dispose(); }
                    finally { _transfer.Dispose(); }
                    var saved = _client.Control.Timeout;
                    var dataTimeout = _client.Options.DataTimeout;
                    _client.Control.Timeout = dataTimeout > saved ? dataTimeout : saved;
                    try { reply = await _client.Control.ReadReplyAsync(ct).ConfigureAwait(false); }
                    finally { _client.Control.Timeout = saved; }
                }
                catch (IOException e)
                {
                    throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated", $"The data connection to {_client.Options.Host} broke at its end: {e.Message}", inner: e);
                }
                if (reply.Code is not (226 or 250)) throw FtpException.FromReply(_transfer.Command, reply);
                if (download)
                {
                    long? announced = _restartAt == 0 ? AnnouncedLength(_transfer.Preliminary) : null;
                    _client.CheckUnsignalledEnd(_transfer, FtpCommand.Verb(_transfer.Command) == "RETR" ? _transfer.Command.Substring(5) : "the " + FtpCommand.Verb(_transfer.Command) + " listing", announced, _received);
                    if (announced is long expected && expected != _received)
                        throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated",
                            $"The download ended at byte {_received}, but {_client.Options.Host} said it has {expected} bytes.");
                }
                return reply;
            }

            /// <summary>ABOR upstream and bring the session back in step (every pending reply consumed).</summary>
            public Task AbortAsync() => _client.AbortTransferAsync(_transfer);

            public void Dispose() => _transfer.Dispose();
        }
    }
}
