using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Data;
using SecureFtp.Protocol;
using SecureFtp.Security;

namespace SecureFtp
{
    // Data connections: passive/active set-up, protection, completion, and ABOR on cancellation.
    public sealed partial class FtpClient
    {
        private const int TransferBufferSize = 256 * 1024;
        private bool _epsvUnsupported;
        private bool _eprtUnsupported;
        private string? _currentType;

        /// <summary>One open data transfer: the (possibly protected) stream and the command that started it.</summary>
        private sealed class DataTransfer : IDisposable
        {
            public DataTransfer(string command, Socket? socket, Stream? stream, FtpReply? preliminary = null) { Command = command; Socket = socket; Stream = stream; Preliminary = preliminary; }
            public string Command { get; }
            /// <summary>The reply to the query sent along with the transfer's commands (MDTM), if one was.</summary>
            public FtpReply? AlongsideReply { get; set; }
            /// <summary>The 1xx reply that opened the transfer.</summary>
            public FtpReply? Preliminary { get; }
            public Socket? Socket { get; }
            /// <summary>Null when the server completed the command without sending data.</summary>
            public Stream? Stream { get; set; }
            public bool CompletedEarly => Stream == null;
            /// <summary>Set when the peer closed the data connection without the mechanism's end signal (TLS
            /// close_notify); see <see cref="CheckUnsignalledEnd"/>.</summary>
            public UnsignalledEndException? UnsignalledEnd { get; set; }
            public void Dispose()
            {
                try { Stream?.Dispose(); } catch { }
                try { Socket?.Dispose(); } catch { }
            }
        }

        private async Task EnsureBinaryAsync(CancellationToken ct)
        {
            if (_currentType == "I") return;
            var reply = await Control.ExecuteAsync("TYPE I", ct).ConfigureAwait(false);
            if (reply.Code != 200) throw FtpException.FromReply("TYPE I", reply);
            _currentType = "I";
        }

        /// <summary>A data connection being set up: what the two ways of sending the transfer's commands
        /// (<see cref="SendPipelinedAsync"/>, <see cref="SendStepByStepAsync"/>) leave for <see cref="AcceptTransferAsync"/>.</summary>
        private sealed class DataOpening
        {
            public DataOpening(string command, bool protect, DataProtectionLevel level, ISecuritySession? security)
            {
                Command = command;
                Protect = protect;
                _level = level;
                _security = security;
            }

            private readonly DataProtectionLevel _level;
            private readonly ISecuritySession? _security;

            public string Command { get; }
            public bool Protect { get; }
            /// <summary>Passive mode: connected to the server. Active mode: accepted from the listener.</summary>
            public Socket? Socket { get; set; }
            /// <summary>Active mode: where the server connects.</summary>
            public Socket? Listener { get; set; }
            public FtpReply? AlongsideReply { get; set; }
            /// <summary>The data connection's TLS ClientHello (and its key generation), made on a worker thread while
            /// the commands and the connection set-up go back and forth; it is sent only once the server answers 1xx.</summary>
            public Task<IPreparedDataStream?>? Preparing { get; set; }

            /// <summary>Starts preparing the protection once the commands are out, so it does not hold up sending them.</summary>
            public void StartPreparing()
            {
                if (Protect && Preparing == null && _security is IPreparesDataStreams preparer)
                {
                    var level = _level;
                    Preparing = Task.Run(() => preparer.PrepareDataStream(level, DataStreamRole.Client), CancellationToken.None);
                }
            }
        }

        /// <summary>Sets up the data connection, sends <paramref name="command"/>, and returns the transfer once the
        /// server answered 1xx and the connection is protected as the session requires. <paramref name="alongside"/>
        /// is a query (MDTM) to send first: pipelined with EPSV and the command where the session allows it, else on
        /// its own; its reply is in <see cref="DataTransfer.AlongsideReply"/>.</summary>
        private async Task<DataTransfer> OpenDataTransferAsync(string command, long restartAt, CancellationToken ct, string? alongside = null)
        {
            bool pipeline = CanPipeline(restartAt);
            bool protect = _security != null && (DataProtection != DataProtectionLevel.Clear || _security.ImpliesPrivateData && DataProtection == DataProtectionLevel.Private);
            var opening = new DataOpening(command, protect, DataProtection, _security);
            if (alongside != null && !pipeline) opening.AlongsideReply = await Control.ExecuteAsync(alongside, ct).ConfigureAwait(false);
            try
            {
                FtpReply? reply = pipeline ? await SendPipelinedAsync(opening, alongside, ct).ConfigureAwait(false) : null;
                reply ??= await SendStepByStepAsync(opening, restartAt, ct).ConfigureAwait(false);
                return await AcceptTransferAsync(opening, reply, ct).ConfigureAwait(false);
            }
            catch
            {
                await DiscardPreparedAsync(opening.Preparing).ConfigureAwait(false);
                opening.Socket?.Dispose();
                throw;
            }
            finally
            {
                opening.Listener?.Dispose();
            }
        }

        /// <summary>Sends the query, EPSV and the transfer command in one flight (see <see cref="CanPipeline"/>), then
        /// connects to the port EPSV named while the command's reply is on its way. Returns the command's reply, or
        /// null when EPSV was refused: the command was answered without a data connection, and the caller sets the
        /// connection up one step at a time.</summary>
        private async Task<FtpReply?> SendPipelinedAsync(DataOpening opening, string? alongside, CancellationToken ct)
        {
            var lines = new List<string>(3);
            if (alongside != null) lines.Add(alongside);
            lines.Add("EPSV");
            lines.Add(opening.Command);
            await Control.SendAsync(lines, ct).ConfigureAwait(false);
            opening.StartPreparing();
            if (alongside != null) opening.AlongsideReply = await Control.ReadReplyAsync(ct).ConfigureAwait(false);
            var epsv = await Control.ReadReplyAsync(ct).ConfigureAwait(false);
            if (epsv.Code != 229)
            {
                // The command went out with no data connection set up: read its answer (a refusal, or from an odd
                // server a 1xx and its end) to stay in step.
                var answer = await Control.ReadReplyAsync(ct).ConfigureAwait(false);
                if (answer.IsPreliminary) await Control.ReadReplyAsync(ct).ConfigureAwait(false);
                if (!UnknownHere(epsv)) throw FtpException.FromReply("EPSV", epsv);
                _epsvUnsupported = true;
                return null;
            }
            var endPoint = new IPEndPoint(Control.RemoteEndPoint.Address, PassiveReplyParser.ParseEpsv(epsv));
            var pending = Control.ReadReplyAsync(ct);
            try
            {
                opening.Socket = await ConnectDataAsync(endPoint, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The server may be waiting for this connection: ABOR, and report the server's own refusal of the
                // command if that is what stood in the way.
                var answer = await AbortTransferAsync(new DataTransfer(opening.Command, null, null), pending).ConfigureAwait(false);
                if (answer is { Code: >= 500 }) throw FtpException.FromReply(opening.Command, answer);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
            }
            TuneDataSocket(opening.Socket!);
            return await pending.ConfigureAwait(false);
        }

        /// <summary>RFC 959's way: the data connection (EPSV/PASV and connect, or EPRT/PORT and listen), REST when
        /// resuming, then the transfer command, each waiting for its reply. Returns the command's reply.</summary>
        private async Task<FtpReply> SendStepByStepAsync(DataOpening opening, long restartAt, CancellationToken ct)
        {
            opening.StartPreparing();
            if (Options.DataConnectionMode == DataConnectionMode.Passive)
                opening.Socket = await ConnectPassiveAsync(ct).ConfigureAwait(false);
            else
                opening.Listener = await ListenActiveAsync(ct).ConfigureAwait(false);

            // RFC 959 s.4.1.3: REST must come right before the transfer command; servers such as inetutils-ftpd
            // forget the restart point when EPSV/PORT comes in between.
            if (restartAt > 0)
            {
                var rest = await Control.ExecuteAsync("REST " + restartAt, ct).ConfigureAwait(false);
                if (rest.Code != 350)
                    throw new FtpException(FtpErrorKind.NotSupported, "ResumeNotSupported", $"{Options.Host} cannot restart a transfer at byte {restartAt} (REST): {rest.Code} {rest.Message}", rest);
            }
            if (opening.Socket != null) TuneDataSocket(opening.Socket);
            return await Control.ExecuteAsync(opening.Command, ct).ConfigureAwait(false);
        }

        /// <summary>After the command's reply: a completion means no data connection is needed; a 1xx means the
        /// transfer is on, so the active connection is accepted and the stream protected as the session requires.</summary>
        private async Task<DataTransfer> AcceptTransferAsync(DataOpening opening, FtpReply reply, CancellationToken ct)
        {
            if (!reply.IsPreliminary)
            {
                await DiscardPreparedAsync(opening.Preparing).ConfigureAwait(false);
                opening.Preparing = null;
            }
            if (reply.IsCompletion) return new DataTransfer(opening.Command, opening.Socket, null) { AlongsideReply = opening.AlongsideReply };
            if (!reply.IsPreliminary) throw FtpException.FromReply(opening.Command, reply);

            if (opening.Listener != null)
            {
                opening.Socket = await AcceptAsync(opening.Listener, ct).ConfigureAwait(false);
                TuneDataSocket(opening.Socket);
            }
            var socket = opening.Socket!;
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (opening.Protect)
            {
                try
                {
                    var raw = stream;
                    var prepared = opening.Preparing != null ? await opening.Preparing.ConfigureAwait(false) : null;
                    opening.Preparing = null;
                    stream = await ProtectDataStreamAsync(socket, prepared != null
                        ? c => prepared.OpenAsync(raw, c)
                        : c => _security!.OpenDataStreamAsync(raw, DataProtection, DataStreamRole.Client, c), ct).ConfigureAwait(false);
                }
                catch
                {
                    // The server answered 1xx and now serves a data connection we gave up (a refused certificate, a
                    // failed handshake): ABOR, so the next command is not answered with this transfer's 425/426.
                    await AbortTransferAsync(new DataTransfer(opening.Command, socket, null, reply)).ConfigureAwait(false);
                    throw;
                }
            }
            var transfer = new DataTransfer(opening.Command, socket, stream, reply) { AlongsideReply = opening.AlongsideReply };
            opening.Socket = null;
            return transfer;
        }

        /// <summary>Frees a prepared handshake that will not be used (its failure, if it failed, no longer matters).</summary>
        private static async Task DiscardPreparedAsync(Task<IPreparedDataStream?>? preparing)
        {
            if (preparing == null) return;
            try { (await preparing.ConfigureAwait(false))?.Dispose(); }
            catch (Exception) { /* a preparation that failed has nothing to free */ }
        }

        /// <summary>Whether this transfer's commands may go out together (see <see cref="FtpClientOptions.PipelineCommands"/>):
        /// on a TLS control connection only. RFC 2228 mechanisms (X-SafeTP1, KEA) protect each command and its reply
        /// as a pair (KEA numbers them), so their commands go one at a time.</summary>
        private bool CanPipeline(long restartAt) =>
            Options.PipelineCommands && restartAt == 0 && _security != null && CommandChannelProtected && Control.Protection == null
            && Options.DataConnectionMode == DataConnectionMode.Passive && Options.UseExtendedPassive && !_epsvUnsupported
            && !LosesPipelinedCommands(Greeting);

        /// <summary>Servers known to drop commands that arrive before the previous reply was sent (lftp's
        /// auto-sync-mode list).</summary>
        private static bool LosesPipelinedCommands(string? greeting) =>
            greeting != null && (greeting.IndexOf("Microsoft FTP Service", StringComparison.OrdinalIgnoreCase) >= 0
                                 || greeting.IndexOf("MadGoat", StringComparison.OrdinalIgnoreCase) >= 0);

        /// <summary>The replies by which a server says it does not know EPSV/EPRT (or refuses it on this network,
        /// 522): the cue to fall back to PASV/PORT. Any other refusal is an error.</summary>
        private static bool UnknownHere(FtpReply reply) => reply.Code is 500 or 501 or 502 or 504 or 522;

        private static void TuneDataSocket(Socket socket)
        {
            socket.NoDelay = true;
            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 1 << 20);
            socket.SendBufferSize = Math.Max(socket.SendBufferSize, 1 << 20);
        }

        /// <summary>Runs the protection's set-up (a TLS handshake) under the data timeout.</summary>
        private async Task<Stream> ProtectDataStreamAsync(Socket socket, Func<CancellationToken, Task<Stream>> open, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Options.DataTimeout);
            using var reg = cts.Token.Register(() => { try { socket.Dispose(); } catch { } });
            try
            {
                return await open(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (cts.IsCancellationRequested && !ct.IsCancellationRequested && e is not FtpException)
            {
                throw new FtpException(FtpErrorKind.Timeout, "DataTimeout", $"The protected data connection to {Options.Host} did not complete its handshake within {Options.DataTimeout.TotalSeconds:0} s.", inner: e);
            }
            catch (Exception e) when (e is IOException or SocketException && !ct.IsCancellationRequested)
            {
                // A reset during the handshake (seen under load: 200 TLS sessions on a 2-core machine) is the module's
                // own error, with an id, like every other broken data connection; not a bare IOException.
                throw new FtpException(FtpErrorKind.Connection, "DataConnectionLost", $"The protected data connection to {Options.Host} broke during its handshake: {e.Message}", inner: e);
            }
        }

        /// <summary>EPSV, else PASV. The data connection always goes to the control connection's peer address: a PASV
        /// reply naming another host is not followed (it can point a client at a third party, the "FTP bounce"
        /// family of attacks, and NAT'd servers announce private addresses), as curl and lftp do.</summary>
        private async Task<Socket> ConnectPassiveAsync(CancellationToken ct)
        {
            var peer = Control.RemoteEndPoint.Address;
            int port;
            FtpReply reply;
            if (!_epsvUnsupported && Options.UseExtendedPassive)
            {
                reply = await Control.ExecuteAsync("EPSV", ct).ConfigureAwait(false);
                if (reply.Code == 229)
                {
                    port = PassiveReplyParser.ParseEpsv(reply);
                    return await ConnectDataAsync(new IPEndPoint(peer, port), ct).ConfigureAwait(false);
                }
                if (!UnknownHere(reply))
                    throw FtpException.FromReply("EPSV", reply);
                _epsvUnsupported = true;
            }
            reply = await Control.ExecuteAsync("PASV", ct).ConfigureAwait(false);
            if (reply.Code != 227) throw FtpException.FromReply("PASV", reply);
            var announced = PassiveReplyParser.ParsePasv(reply);
            var target = peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer;
            if (!announced.Address.Equals(target))
                Options.Verbose?.Invoke($"The server announced data address {announced.Address}; connecting to the control peer {target} instead.");
            return await ConnectDataAsync(new IPEndPoint(peer, announced.Port), ct).ConfigureAwait(false);
        }

        private async Task<Socket> ConnectDataAsync(IPEndPoint endPoint, CancellationToken ct)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await SocketConnector.ConnectSocketAsync(socket, endPoint, Options.ConnectTimeout, ct).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new FtpException(FtpErrorKind.Connection, "DataConnectFailed", $"Could not open the data connection to {endPoint}: {e.Message}", inner: e);
            }
            catch { socket.Dispose(); throw; }
        }

        /// <summary>Listens for an active-mode data connection and announces it with EPRT, else PORT.</summary>
        private async Task<Socket> ListenActiveAsync(CancellationToken ct)
        {
            var local = Options.ActiveAddress ?? Control.LocalEndPoint.Address;
            var listener = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(new IPEndPoint(Control.LocalEndPoint.Address, 0));
                listener.Listen(1);
                var ep = new IPEndPoint(local, ((IPEndPoint)listener.LocalEndPoint!).Port);
                FtpReply reply;
                if (!_eprtUnsupported)
                {
                    reply = await Control.ExecuteAsync("EPRT " + PassiveReplyParser.FormatEprt(ep), ct).ConfigureAwait(false);
                    if (reply.Code == 200) return listener;
                    if (!UnknownHere(reply)) throw FtpException.FromReply("EPRT", reply);
                    _eprtUnsupported = true;
                }
                reply = await Control.ExecuteAsync("PORT " + PassiveReplyParser.FormatPort(ep), ct).ConfigureAwait(false);
                if (reply.Code != 200) throw FtpException.FromReply("PORT", reply);
                return listener;
            }
            catch
            {
                listener.Dispose();
                throw;
            }
        }

        private async Task<Socket> AcceptAsync(Socket listener, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Options.DataTimeout);
            using var reg = cts.Token.Register(() => { try { listener.Dispose(); } catch { } });
            try
            {
#if NET
                var socket = await listener.AcceptAsync(cts.Token).ConfigureAwait(false);
#else
                var socket = await Task.Factory.FromAsync(listener.BeginAccept, listener.EndAccept, null).ConfigureAwait(false);
#endif
                // Only the server we talk to may connect (PORT theft).
                var from = ((IPEndPoint)socket.RemoteEndPoint!).Address;
                if (!Normalize(from).Equals(Normalize(Control.RemoteEndPoint.Address)))
                {
                    socket.Dispose();
                    throw new FtpException(FtpErrorKind.Security, "DataConnectionFromStranger", $"A data connection came from {from}, not from the server {Control.RemoteEndPoint.Address}; refused.");
                }
                return socket;
            }
            catch (Exception e) when (cts.IsCancellationRequested && !ct.IsCancellationRequested && e is not FtpException)
            {
                throw new FtpException(FtpErrorKind.Timeout, "DataTimeout", $"{Options.Host} did not open the active data connection within {Options.DataTimeout.TotalSeconds:0} s.", inner: e);
            }
        }

        /// <summary>A protected data connection that ended without its end signal (TLS close_notify) may have been cut
        /// by an attacker. It is accepted only where the end is proved otherwise: the byte count equals the size the
        /// server announced, or the mechanism says its servers always end that way
        /// (<see cref="ISecuritySession.AcceptsUnsignalledDataEnd"/>: AUTH SSL).</summary>
        private void CheckUnsignalledEnd(DataTransfer transfer, string what, long? expected, long actual)
        {
            if (transfer.UnsignalledEnd is not { } end) return;
            if (expected is long e && e == actual)
                Options.Verbose?.Invoke($"{Options.Host} closed the data connection of {what} without {end.Signal}; accepted because all {actual} bytes the server announced arrived.");
            else if (_security?.AcceptsUnsignalledDataEnd == true)
                Options.Verbose?.Invoke($"{Options.Host} closed the data connection of {what} without {end.Signal}, as {Security.Mechanism} servers do; accepted on the server's completion reply.");
            else
                throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated",
                    $"The data connection of {what} from {Options.Host} was closed without {end.Signal} after {actual} bytes, and nothing else proves the transfer complete: it may have been truncated by the network or an attacker.");
        }

        private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

        /// <summary>Closes the data connection (TLS close_notify first) and reads the completion reply.</summary>
        private async Task CompleteTransferAsync(DataTransfer transfer, CancellationToken ct)
        {
            if (!transfer.CompletedEarly)
            {
                try
                {
                    // Asynchronously: Dispose would hold a pool thread while the server ends the connection.
                    if (transfer.Stream is SecureFtp.Security.Tls.TlsChannel tls) await tls.CloseAsync().ConfigureAwait(false);
                    transfer.Stream!.Dispose();
                }
                finally { transfer.Dispose(); }
                var saved = Control.Timeout;
                Control.Timeout = Options.DataTimeout > saved ? Options.DataTimeout : saved;
                try
                {
                    var reply = await Control.ReadFinalReplyAsync(await Control.ReadReplyAsync(ct).ConfigureAwait(false), transfer.Command, ct).ConfigureAwait(false);
                    if (reply.Code is not (226 or 250))
                        throw FtpException.FromReply(transfer.Command, reply);
                }
                finally { Control.Timeout = saved; }
            }
        }

        /// <summary>Runs the body of a transfer on its data stream, then reads the completion reply. When the transfer
        /// fails on our side (cancelled, local disk, truncation, tampering, timeout, a hostile listing) the server is
        /// told with ABOR and the session brought back in step. The data connection is closed either way.</summary>
        private async Task RunTransferAsync(DataTransfer transfer, Func<Stream, Task> body, CancellationToken ct)
        {
            try
            {
                if (!transfer.CompletedEarly) await body(transfer.Stream!).ConfigureAwait(false);
                await CompleteTransferAsync(transfer, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException ||
                                      e is FtpException { Kind: FtpErrorKind.LocalIo or FtpErrorKind.Truncated or FtpErrorKind.Security or FtpErrorKind.Timeout or FtpErrorKind.Protocol })
            {
                await AbortTransferAsync(transfer).ConfigureAwait(false);
                throw;
            }
            finally { transfer.Dispose(); }
        }

        /// <summary>Stops a transfer that failed or was cancelled on our side and brings the session back in step:
        /// ABOR (RFC 959 s.4.1.3), the data connection closed, and every pending reply consumed, found by a NOOP
        /// marker so no stray 426/226 is taken as the answer to the next command.</summary>
        /// <returns>The command's own reply when it was still to come (<paramref name="pendingReply"/>).</returns>
        private async Task<FtpReply?> AbortTransferAsync(DataTransfer transfer, Task<FtpReply>? pendingReply = null)
        {
            (transfer.Stream as IAbortableStream)?.Abort();
            transfer.Dispose();
            if (_control == null || !_control.IsConnected) return null;
            FtpReply? answer = null;
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(5, Options.ReadTimeout.TotalSeconds)));
                await Control.SendAsync("ABOR", cts.Token).ConfigureAwait(false);
                await Control.SendAsync("NOOP", cts.Token).ConfigureAwait(false);
                if (pendingReply != null)
                {
                    answer = await pendingReply.ConfigureAwait(false);
                }
                for (int i = 0; i < 6; i++)
                {
                    var reply = await Control.ReadReplyAsync(cts.Token).ConfigureAwait(false);
                    if (reply.Code == 200) return answer;
                }
            }
            catch (Exception e)
            {
                Options.Verbose?.Invoke($"ABOR did not bring the session back in step ({e.Message}); closing it.");
                _control?.Dispose();
            }
            return answer;
        }
    }
}
