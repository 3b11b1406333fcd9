using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Data;
using SecureFtp.Protocol;

namespace SecureFtp.Server
{
    /// <summary>Upstream mode: SafeTP's server proxy (the SafeTP paper, s.3.2). Commands go to the legacy ftpd in cleartext
    /// over loopback; data connections are the proxy's own on the client side (protected as PROT says) and passive
    /// connections to the ftpd, so protected data always passes through the proxy and the ftpd never connects
    /// anywhere on its own (a forwarded PORT could send data around the proxy).</summary>
    internal sealed class UpstreamCommandHandler : IFtpCommandHandler
    {
        /// <summary>The SafeTP paper, s.6.3: the RFC 959 commands, their X- variants, and the extensions whose effect on data
        /// connections the proxy knows. Anything else is refused while data protection is on.</summary>
        private static readonly HashSet<string> KnownCommands = new HashSet<string>(StringComparer.Ordinal)
        {
            "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "REIN", "QUIT", "PORT", "PASV", "TYPE", "STRU", "MODE",
            "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "MKD", "PWD", "LIST",
            "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "XPWD", "XCWD", "XCUP", "XMKD", "XRMD", "FEAT", "OPTS",
            "SIZE", "MDTM", "MFMT", "MLST", "MLSD", "EPSV", "EPRT",
        };

        /// <summary>FEAT lines of the ftpd that the proxy replaces with its own (security and data ports).</summary>
        private static readonly string[] FrontEndFeatures = { "AUTH", "PBSZ", "PROT", "CCC", "EPSV", "EPRT", "ADAT", "ENC", "MIC", "CONF" };

        private readonly SecureFtpServerOptions _options;
        private readonly UpstreamEndPoint _upstream;
        private readonly Action<SecureFtpServerLogKind, string> _log;
        private FtpControlConnection? _backend;
        private bool _userSent;
        private string? _pendingUser;

        public UpstreamCommandHandler(SecureFtpServerOptions options, UpstreamEndPoint upstream, Action<SecureFtpServerLogKind, string> log)
        {
            _options = options;
            _upstream = upstream;
            _log = log;
        }

        private FtpControlConnection Backend => _backend ?? throw new FtpException(FtpErrorKind.Connection, "UpstreamClosed", "The connection to the ftpd is closed.");

        public async Task<FtpReply> StartAsync(CancellationToken ct)
        {
            var backend = await FtpControlConnection.OpenAsync(_upstream.Host, _upstream.Port, _options.DataTimeout, new UTF8Encoding(false), ct).ConfigureAwait(false);
            backend.Trace = (sent, line) => _log(SecureFtpServerLogKind.Info, (sent ? "ftpd< " : "ftpd> ") + line);
            _backend = backend;
            // The SafeTP paper, s.4.3: the client sees the ftpd's own greeting.
            return await backend.ReadReplyAsync(ct).ConfigureAwait(false);
        }

        public bool IsKnownCommand(string verb) => KnownCommands.Contains(verb);

        public async Task<IReadOnlyList<string>> GetFeaturesAsync(CancellationToken ct)
        {
            var reply = await Backend.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
            if (reply.Code != 211 || reply.Lines.Count < 3) return Array.Empty<string>();
            return reply.Lines.Skip(1).Take(reply.Lines.Count - 2)
                .Select(l => l.Trim())
                .Where(l => l.Length > 0 && !FrontEndFeatures.Contains(FtpCommand.Verb(l)))
                .ToList();
        }

        public async Task ReinitializeAsync(CancellationToken ct)
        {
            if (!_userSent) return;
            // The ftpd may not implement REIN: a new connection gives the same fresh state everywhere.
            _backend?.Dispose();
            _backend = null;
            _userSent = false;
            var greeting = await StartAsync(ct).ConfigureAwait(false);
            if (greeting.Code != 220)
                throw FtpException.FromReply("connecting to the ftpd", greeting);
        }

        public async Task<FtpReply> QuitAsync(CancellationToken ct)
        {
            try
            {
                return await Backend.ExecuteAsync("QUIT", ct).ConfigureAwait(false);
            }
            catch (FtpException)
            {
                return new FtpReply(221, new[] { "Goodbye." });
            }
        }

        public async Task HandleAsync(FtpServerSession session, string verb, string argument, CancellationToken ct)
        {
            string line = argument.Length > 0 ? verb + " " + argument : verb;
            if (FtpServerSession.DataCommands.Contains(verb))
            {
                await StartProxiedTransferAsync(session, verb, line, ct).ConfigureAwait(false);
                return;
            }
            if (verb == "USER")
            {
                _userSent = true;
                _pendingUser = argument.Trim();
                session.IsLoggedIn = false;
            }
            // The ftpd checks passwords; the proxy still counts and slows failed logins like the embedded server.
            string? guessedUser = verb == "PASS" && _pendingUser != null && !FtpServerSession.IsAnonymousName(_pendingUser) ? _pendingUser : null;
            if (guessedUser != null && !await session.MayTryLoginAsync(guessedUser).ConfigureAwait(false)) return;
            var reply = await Backend.ExecuteAsync(line, ct).ConfigureAwait(false);
            if (guessedUser != null && reply.Code == 530) await session.LoginFailedAsync(guessedUser, ct).ConfigureAwait(false);
            if ((verb == "USER" || verb == "PASS") && reply.Code == 230)
            {
                session.IsLoggedIn = true;
                session.Log(SecureFtpServerLogKind.Info, $"Login accepted by the ftpd{(session.IsControlProtected ? "" : " over a cleartext client connection")}.");
            }
            await session.ReplyAsync(reply.Code, reply.Lines).ConfigureAwait(false);
        }

        private async Task StartProxiedTransferAsync(FtpServerSession session, string verb, string line, CancellationToken ct)
        {
            Socket backendData;
            try
            {
                backendData = await OpenBackendDataAsync(ct).ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                _log(SecureFtpServerLogKind.Warning, e.Message);
                await session.ReplyAsync(425, "Can't open data connection: " + (e.Reply != null ? $"the ftpd replied {e.Reply.Code}." : e.Message)).ConfigureAwait(false);
                return;
            }
            FtpReply first;
            try
            {
                first = await Backend.ExecuteAsync(line, ct).ConfigureAwait(false);
            }
            catch
            {
                backendData.Dispose();
                throw;
            }
            if (!first.IsPreliminary)
            {
                backendData.Dispose();
                await session.ReplyAsync(first.Code, first.Lines).ConfigureAwait(false);
                return;
            }
            bool download = verb is "RETR" or "LIST" or "NLST" or "MLSD";
            session.StartTransfer(async c =>
            {
                bool complete;
                using (var backendStream = new NetworkStream(backendData, ownsSocket: true))
                {
                    complete = await session.TransferAsync(first.Lines[0], async (client, token) =>
                    {
                        if (download) await session.CopyAsync(backendStream, client, token).ConfigureAwait(false);
                        else
                        {
                            await session.CopyAsync(client, backendStream, token).ConfigureAwait(false);
                            backendData.Shutdown(SocketShutdown.Send);
                        }
                    }, c).ConfigureAwait(false);
                    if (!complete)
                    {
                        // Reset, not a clean close: the ftpd must see the transfer fail, not a short file that ended well.
                        try { backendData.LingerState = new LingerOption(true, 0); } catch (SocketException) { }
                        // Closed here, before the stream's Dispose: NetworkStream shuts the socket down (a clean FIN) before
                        // it closes it, and a FIN is exactly the "complete file" the ftpd must not see.
                        backendData.Dispose();
                    }
                }
                var final = await Backend.ReadReplyAsync(CancellationToken.None).ConfigureAwait(false);
                // The client already has 425/426/522 when the transfer failed on its side; the ftpd's view is only logged.
                if (complete) await session.ReplyAsync(final.Code, final.Lines).ConfigureAwait(false);
                else _log(SecureFtpServerLogKind.Info, $"The ftpd ended the failed transfer with {final.Code}.");
            }, ct);
        }

        /// <summary>A passive data connection to the ftpd, made before the transfer command as RFC 959 wants. The
        /// port comes from the reply; the address is always the ftpd's control address (a reply naming another
        /// host is not followed).</summary>
        private async Task<Socket> OpenBackendDataAsync(CancellationToken ct)
        {
            var backend = Backend;
            var address = backend.RemoteEndPoint.Address;
            bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6;
            var reply = await backend.ExecuteAsync(v6 ? "EPSV" : "PASV", ct).ConfigureAwait(false);
            // The reply is parsed as the client parses one (numbers in range, no port 0); only its port is used.
            int port = reply.Code switch
            {
                227 => PassiveReplyParser.ParsePasv(reply).Port,
                229 => PassiveReplyParser.ParseEpsv(reply),
                _ => throw new FtpException(FtpErrorKind.Protocol, "UpstreamPassiveFailed", $"The ftpd did not open a passive data port ({reply.Code} {reply.LastLine}).", reply),
            };
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await SocketConnector.ConnectSocketAsync(socket, new IPEndPoint(address, port), _options.DataTimeout, ct).ConfigureAwait(false);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public void Dispose() => _backend?.Dispose();
    }
}
