using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;

namespace SecureFtp.Server
{
    /// <summary>One client's control connection: the security front end shared by root and upstream mode.
    /// It answers AUTH, PBSZ, PROT, CCC, REIN, FEAT, QUIT and the data-port commands, applies the security policy
    /// (RFC 4217 s.10, the SafeTP paper, s.6), runs data transfers in the background so ABOR and STAT are heard, and hands
    /// every other command to the <see cref="IFtpCommandHandler"/>.</summary>
    internal sealed class FtpServerSession : IDisposable
    {
        /// <summary>Commands that open a data connection (RFC 4217 s.10.2 lists them for the PROT check).</summary>
        public static readonly HashSet<string> DataCommands = new HashSet<string>(StringComparer.Ordinal)
        { "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD" };

        /// <summary>Commands a client may send before logging in.</summary>
        private static readonly HashSet<string> PreLoginCommands = new HashSet<string>(StringComparer.Ordinal)
        { "USER", "PASS", "ACCT", "AUTH", "ADAT", "PBSZ", "PROT", "CCC", "MIC", "CONF", "ENC", "FEAT", "SYST", "HELP", "NOOP", "QUIT", "OPTS", "REIN", "STAT", "ABOR" };

        private readonly SecureFtpServerOptions _options;
        private readonly Action<SecureFtpServerLogKind, string> _log;
        private readonly ServerControlChannel _control;
        private readonly IFtpCommandHandler _handler;
        private readonly ServerDataChannel _data;
        private readonly IPAddress _clientAddress;
        /// <summary>The TLS half (AUTH TLS/SSL, implicit TLS, PBSZ/PROT for TLS, TLS on data connections).</summary>
        private readonly ServerTlsNegotiation _tls;
        private bool _epsvAll;
        /// <summary>Formatting (which numbers and protects RFC 2228 replies) and writing happen together, one reply at
        /// a time: the transfer task and the command loop both reply, and protected replies must reach the wire in
        /// the order of their sequence numbers.</summary>
        private readonly SemaphoreSlim _replyLock = new SemaphoreSlim(1, 1);
        /// <summary>The RFC 2228 half (ADAT mechanisms, ENC/MIC/CONF, DIGT); null when none is offered.</summary>
        private Rfc2228ServerNegotiation? _rfc2228;
        private DateTime _loginDeadline;

        private readonly LoginThrottle _throttle;

        public FtpServerSession(Socket socket, SecureFtpServerOptions options, IFtpCommandHandler handler, LoginThrottle throttle, Action<SecureFtpServerLogKind, string> log)
        {
            _options = options;
            _throttle = throttle;
            _handler = handler;
            _log = log;
            _control = new ServerControlChannel(socket);
            _clientAddress = _control.RemoteEndPoint.Address;
            _tls = new ServerTlsNegotiation(options, _control, (code, text) => ReplyAsync(code, text), log);
            _data = new ServerDataChannel(options, _clientAddress, (code, text) => ReplyAsync(code, text), log, ProtectDataAsync);
            _rfc2228 = CreateRfc2228Negotiation();
            _loginDeadline = DateTime.UtcNow + options.LoginTimeout;
        }

        private Rfc2228ServerNegotiation? CreateRfc2228Negotiation()
        {
            var offered = ServerMechanisms.Offered(_options).Where(m => m.Kind == ServerMechanismKind.Rfc2228).ToList();
            if (offered.Count == 0) return null;
            var connection = new SecureFtpServerConnection(_control.LocalEndPoint, _control.RemoteEndPoint);
            return new Rfc2228ServerNegotiation(name =>
            {
                var match = offered.FirstOrDefault(m => m.Name.IsAuthName(name));
                return match != null ? ServerMechanisms.Rfc2228Factory(_options, match)!(connection) : null;
            });
        }

        private bool Rfc2228Established => _rfc2228 != null && _rfc2228.IsEstablished;

        public SecureFtpServerOptions Options => _options;
        public IPAddress ClientAddress => _clientAddress;

        /// <summary>True once TLS (or an RFC 2228 mechanism) protects the control connection.</summary>
        public bool IsControlProtected => _tls.IsEstablished || Rfc2228Established;

        public DataProtectionLevel DataProtection => Rfc2228Established ? _rfc2228!.DataProtection : _tls.DataProtection;

        /// <summary>The handler reports a successful login here, for the log.</summary>
        public bool IsLoggedIn { get; set; }

        public void Log(SecureFtpServerLogKind kind, string message) => _log(kind, message);

        /// <summary>Called by the handler before it checks a password: when the client address or the user name has
        /// used up its failed-login budget, answers (421 and closes for the address, 530 for the name) and returns
        /// false; the password is then not checked at all, so the budget leaks nothing about it.</summary>
        public async Task<bool> MayTryLoginAsync(string user)
        {
            string? refusal = _throttle.RefusalForAddress(_clientAddress);
            if (refusal != null)
            {
                _log(SecureFtpServerLogKind.Warning, $"Login for '{user}' refused without checking the password: {refusal}");
                throw new FtpException(FtpErrorKind.Authentication, "TooManyFailedLogins", refusal);
            }
            refusal = _throttle.RefusalForUser(user);
            if (refusal == null) return true;
            _log(SecureFtpServerLogKind.Warning, $"Login for '{user}' refused without checking the password: {refusal}");
            await ReplyAsync(530, refusal).ConfigureAwait(false);
            return false;
        }

        /// <summary>Called by the handler when a login failed, before it answers 530: counts the failure against the
        /// address and the user name, logs it, and waits (longer with every failure, never past the login deadline,
        /// and cut short when the server stops). The wait holds this connection only, whose slot is bounded by the
        /// connection limits and the login deadline.</summary>
        public async Task LoginFailedAsync(string user, CancellationToken ct)
        {
            var (delay, byAddress, byUser) = _throttle.RecordFailure(_clientAddress, user);
            if (delay > LoginTimeLeft) delay = LoginTimeLeft > TimeSpan.Zero ? LoginTimeLeft : TimeSpan.Zero;
            _log(SecureFtpServerLogKind.Warning, $"Login failed for '{user}' from {_clientAddress} ({byAddress} failures from this address, "
                + $"{byUser} for this user name in {_options.FailedLoginWindow.TotalMinutes:0} min); answering in {delay.TotalSeconds:0.#} s.");
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        }

        public async Task RunAsync(bool implicitTls, CancellationToken ct)
        {
            try
            {
                if (implicitTls) await _tls.StartImplicitAsync(ct).ConfigureAwait(false);
                FtpReply greeting;
                try
                {
                    greeting = await _handler.StartAsync(ct).ConfigureAwait(false);
                }
                catch (FtpException e)
                {
                    _log(SecureFtpServerLogKind.Error, e.Message);
                    await ReplyAsync(421, "Service not available: " + e.Message).ConfigureAwait(false);
                    return;
                }
                await ReplyAsync(greeting.Code, greeting.Lines).ConfigureAwait(false);
                await CommandLoopAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await TryReplyAsync(421, "Server shutting down.").ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                _log(SecureFtpServerLogKind.Warning, e.Message);
                if (e.Kind != FtpErrorKind.Security) await TryReplyAsync(421, e.Message).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                _log(SecureFtpServerLogKind.Info, "Connection lost: " + e.Message);
            }
            finally
            {
                await _data.CancelTransferAsync().ConfigureAwait(false);
            }
        }

        private async Task CommandLoopAsync(CancellationToken ct)
        {
            while (true)
            {
                var read = _control.ReadLineAsync(ct);
                while (true)
                {
                    // One timer per wait, cancelled as soon as the line arrives: a flood of commands leaves no timers
                    // behind. Before login the wait ends at the login deadline, which no command moves (NOOP included).
                    bool loginDeadline = !IsLoggedIn && LoginTimeLeft < _options.IdleTimeout;
                    var limit = loginDeadline ? LoginTimeLeft : _options.IdleTimeout;
                    Task winner;
                    using (var timer = CancellationTokenSource.CreateLinkedTokenSource(ct))
                    {
                        winner = await Task.WhenAny(read, Task.Delay(limit > TimeSpan.Zero ? limit : TimeSpan.Zero, timer.Token)).ConfigureAwait(false);
                        timer.Cancel();
                    }
                    if (winner == read) break;
                    ct.ThrowIfCancellationRequested();
                    if (_data.IsTransferRunning) continue;
                    if (loginDeadline)
                    {
                        _log(SecureFtpServerLogKind.Warning, $"No login within {_options.LoginTimeout.TotalSeconds:0} s; closing.");
                        await ReplyAsync(421, $"Login timeout: no successful login within {_options.LoginTimeout.TotalSeconds:0} seconds; closing the control connection.").ConfigureAwait(false);
                        return;
                    }
                    _log(SecureFtpServerLogKind.Info, $"Idle for {_options.IdleTimeout.TotalSeconds:0} s; closing.");
                    await ReplyAsync(421, $"Idle timeout: no command for {_options.IdleTimeout.TotalSeconds:0} seconds; closing the control connection.").ConfigureAwait(false);
                    return;
                }
                var line = await read.ConfigureAwait(false);
                if (line == null)
                {
                    _log(SecureFtpServerLogKind.Info, "Client closed the control connection.");
                    return;
                }
                if (!await DispatchAsync(line, ct).ConfigureAwait(false)) return;
                if (!IsLoggedIn && LoginTimeLeft <= TimeSpan.Zero)
                {
                    // Checked after each command too: a client that keeps the line busy must not outlive the deadline.
                    _log(SecureFtpServerLogKind.Warning, $"No login within {_options.LoginTimeout.TotalSeconds:0} s; closing.");
                    await ReplyAsync(421, $"Login timeout: no successful login within {_options.LoginTimeout.TotalSeconds:0} seconds; closing the control connection.").ConfigureAwait(false);
                    return;
                }
            }
        }

        /// <summary>What remains of the login deadline (<see cref="SecureFtpServerOptions.LoginTimeout"/>), counted from
        /// the connection, or from the last REIN or AUTH that logged a user out.</summary>
        private TimeSpan LoginTimeLeft => _loginDeadline - DateTime.UtcNow;

        /// <summary>Handles one line; false ends the session. The front end takes what is its own (RFC 2228 lines,
        /// security commands, data ports, the login policy) and hands every other command to the handler.</summary>
        private async Task<bool> DispatchAsync(string line, CancellationToken ct)
        {
            if (line.IndexOf('\0') >= 0)
            {
                _log(SecureFtpServerLogKind.Command, FtpCommand.Redact(line.Replace("\0", "\\0")));
                await ReplyAsync(501, "NUL is not allowed in a command.").ConfigureAwait(false);
                return true;
            }
            if (_rfc2228 != null && _control.Tls == null)
            {
                var (command, keepOpen) = await ReceiveRfc2228Async(line).ConfigureAwait(false);
                if (command == null) return keepOpen;
                line = command;
            }
            string verb = FtpCommand.Verb(line).Trim();
            string argument = Argument(line);
            _log(SecureFtpServerLogKind.Command, FtpCommand.Redact(line));

            if (_data.IsTransferRunning && await AnswerDuringTransferAsync(verb).ConfigureAwait(false)) return true;
            var security = await SecurityCommandAsync(verb, argument, ct).ConfigureAwait(false);
            if (security != null) return security.Value;
            if (!IsLoggedIn && !PreLoginCommands.Contains(verb))
            {
                await ReplyAsync(530, "Please log in with USER and PASS first.").ConfigureAwait(false);
                return true;
            }
            if (await FrontEndCommandAsync(verb, argument).ConfigureAwait(false)) return true;
            if (await RefusedByDataPolicyAsync(verb).ConfigureAwait(false)) return true;
            await _handler.HandleAsync(this, verb, argument, ct).ConfigureAwait(false);
            return true;
        }

        /// <summary>RFC 2228: AUTH for an ADAT mechanism, ADAT, and after 235 every ENC/MIC/CONF line, PBSZ, PROT, CCC
        /// and DIGT are the negotiation's; it hands back the plain command for everything else. Returns that command,
        /// or null when the negotiation answered (then whether the connection stays open).</summary>
        private async Task<(string? Command, bool KeepOpen)> ReceiveRfc2228Async(string line)
        {
            Rfc2228ServerStep step;
            await _replyLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try { step = _rfc2228!.Receive(line); }
            finally { _replyLock.Release(); }
            if (step.Reply == null) return (step.Command!, true);
            string verbSeen = FtpCommand.Verb(line);
            _log(SecureFtpServerLogKind.Command, verbSeen == "ADAT" ? $"ADAT ({Argument(line).Length} base64 characters)"
                : step.WasProtected ? $"{verbSeen} (protected; answered by {_rfc2228.Mechanism?.MechanismName})" : FtpCommand.Redact(line));
            _log(SecureFtpServerLogKind.Reply, step.WasProtected || Rfc2228Established ? "(protected reply)" : step.Reply[0]);
            await _control.WriteLinesAsync(step.Reply, CancellationToken.None).ConfigureAwait(false);
            if (step.CloseConnection) _log(SecureFtpServerLogKind.Warning, "A protected command failed its integrity check; closing.");
            else if (Rfc2228Established && step.Reply[0].StartsWith("235", StringComparison.Ordinal))
                _log(SecureFtpServerLogKind.Info, $"AUTH {_rfc2228.Mechanism!.MechanismName}: security data exchange complete ({_rfc2228.Details}).");
            return (null, !step.CloseConnection);
        }

        /// <summary>While a transfer runs: ABOR and STAT are answered at once (true); anything else waits for the
        /// transfer's reply first (RFC 959: commands are answered in order) and then goes on (false).</summary>
        private async Task<bool> AnswerDuringTransferAsync(string verb)
        {
            switch (verb)
            {
                case "ABOR":
                    await _data.CancelTransferAsync().ConfigureAwait(false);
                    await ReplyAsync(226, "ABOR command successful.").ConfigureAwait(false);
                    return true;
                case "STAT":
                    await ReplyAsync(213, "Status: a data transfer is in progress.").ConfigureAwait(false);
                    return true;
                default:
                    await _data.WaitForTransferAsync().ConfigureAwait(false);
                    return false;
            }
        }

        /// <summary>The commands the front end answers before and after login alike: the security exchange, FEAT,
        /// REIN, QUIT, ABOR. Null when <paramref name="verb"/> is not one of them; otherwise whether the session goes on.</summary>
        private async Task<bool?> SecurityCommandAsync(string verb, string argument, CancellationToken ct)
        {
            switch (verb)
            {
                case "AUTH": return await AuthAsync(argument, ct).ConfigureAwait(false);
                case "PBSZ": await _tls.PbszAsync(argument).ConfigureAwait(false); return true;
                case "PROT": await _tls.ProtAsync(argument).ConfigureAwait(false); return true;
                case "CCC":
                    if (!IsControlProtected) await ReplyAsync(533, "The control connection is not protected; there is nothing to clear.").ConfigureAwait(false);
                    else await ReplyAsync(534, "CCC refused: the control connection stays protected for the whole session.").ConfigureAwait(false);
                    return true;
                case "ADAT":
                case "MIC":
                case "CONF":
                case "ENC":
                    await ReplyAsync(503, $"{verb} needs an RFC 2228 security exchange (AUTH with an ADAT mechanism) first.").ConfigureAwait(false);
                    return true;
                case "FEAT": await FeaturesAsync(ct).ConfigureAwait(false); return true;
                case "REIN": await ReinitializeAsync(ct).ConfigureAwait(false); return true;
                case "QUIT":
                    {
                        var reply = await _handler.QuitAsync(ct).ConfigureAwait(false);
                        await ReplyAsync(reply.Code, reply.Lines).ConfigureAwait(false);
                        return false;
                    }
                case "ABOR":
                    await ReplyAsync(226, "No transfer to abort.").ConfigureAwait(false);
                    return true;
                default:
                    return null;
            }
        }

        /// <summary>USER under the login policy (RFC 4217 s.10.1; RFC 2773 certificate mapping), and the data-port
        /// commands. True when answered here.</summary>
        private async Task<bool> FrontEndCommandAsync(string verb, string argument)
        {
            switch (verb)
            {
                case "USER":
                    if (!IsControlProtected && !_options.AllowInsecure && !(IsAnonymousName(argument) && _options.AllowAnonymousInClear))
                    {
                        _log(SecureFtpServerLogKind.Warning, $"Refused cleartext login for '{argument}': the server requires a secure connection.");
                        await ReplyAsync(530, "Cleartext login refused: this server requires a secure connection; send AUTH TLS first"
                            + (_options.AllowAnonymousInClear ? " (only anonymous may log in without it)." : ".")).ConfigureAwait(false);
                        return true;
                    }
                    if (Rfc2228Established && _rfc2228!.Mechanism!.AuthenticatedPeer is { } peer && !peer.MayLogInAs(argument.Trim()))
                    {
                        // RFC 2773: the certificate authenticated the client; it may log in only as a user it is mapped to.
                        _log(SecureFtpServerLogKind.Warning, $"Refused USER '{argument.Trim()}': the client's {_rfc2228.Mechanism.MechanismName} identity ({peer.Name}) is not mapped to it.");
                        await ReplyAsync(530, $"The {_rfc2228.Mechanism.MechanismName} identity presented is not allowed to log in as {argument.Trim()}.").ConfigureAwait(false);
                        return true;
                    }
                    return false;
                case "PASV": await PassiveAsync(extended: false, argument).ConfigureAwait(false); return true;
                case "EPSV": await PassiveAsync(extended: true, argument).ConfigureAwait(false); return true;
                case "PORT":
                case "EPRT": await ActiveAsync(verb, argument).ConfigureAwait(false); return true;
                default: return false;
            }
        }

        /// <summary>True (and answered) when data protection forbids the command here or no data port is set up.</summary>
        private async Task<bool> RefusedByDataPolicyAsync(string verb)
        {
            if (DataProtection != DataProtectionLevel.Clear && !_handler.IsKnownCommand(verb))
            {
                // The SafeTP paper, s.6.3: an unknown command could open a data connection we do not protect.
                await ReplyAsync(502, $"{verb} is not allowed while data protection is on: the server cannot tell whether it moves data.").ConfigureAwait(false);
                return true;
            }
            if (!DataCommands.Contains(verb)) return false;
            if (_options.RequireProtectedData && DataProtection == DataProtectionLevel.Clear)
            {
                await ReplyAsync(521, "Data connection cannot be opened with this PROT setting: this server requires PROT P (send PBSZ 0 and PROT P).").ConfigureAwait(false);
                return true;
            }
            if (!_data.IsConfigured)
            {
                await ReplyAsync(425, "Use PORT, EPRT, PASV or EPSV first.").ConfigureAwait(false);
                return true;
            }
            return false;
        }

        private async Task<bool> AuthAsync(string argument, CancellationToken ct)
        {
            string name = argument.Trim().ToUpperInvariant();
            var mechanism = ServerMechanisms.Offered(_options).FirstOrDefault(m => m.Kind == ServerMechanismKind.Tls && m.Name.IsAuthName(name));
            if (IsControlProtected)
            {
                await ReplyAsync(503, $"The control connection is already protected by {_tls.Mechanism ?? _rfc2228?.Mechanism?.MechanismName}.").ConfigureAwait(false);
                return true;
            }
            if (mechanism == null || _options.Certificate == null)
            {
                await ReplyAsync(504, $"AUTH {name} is not offered here. Offered: {string.Join(", ", OfferedMechanisms().DefaultIfEmpty("none"))}.").ConfigureAwait(false);
                return true;
            }
            // RFC 4217 s.4: after AUTH the user logs in again and every transfer parameter is reset.
            await ResetSessionStateAsync(ct).ConfigureAwait(false);
            // A handshake that failed half-way leaves the connection in an unknown state: drop it (RFC 4217 s.10.1).
            return await _tls.AuthAsync(mechanism, name, ct).ConfigureAwait(false);
        }

        private async Task FeaturesAsync(CancellationToken ct)
        {
            var lines = new List<string> { "Extensions supported:" };
            var offered = OfferedMechanisms().ToList();
            if (offered.Count > 0)
            {
                var names = new List<string>();
                foreach (var m in offered)
                    names.AddRange(ServerMechanisms.Find(_options, m)!.Name.AuthNames);
                lines.Add(" AUTH " + string.Join(";", names));
                lines.Add(" PBSZ");
                lines.Add(" PROT");
                if (_rfc2228 != null) lines.Add(" DIGT");
            }
            lines.Add(" EPRT");
            lines.Add(" EPSV");
            foreach (var feature in await _handler.GetFeaturesAsync(ct).ConfigureAwait(false))
                lines.Add(" " + feature.Trim());
            lines.Add("End");
            await ReplyAsync(211, lines).ConfigureAwait(false);
        }

        private async Task ReinitializeAsync(CancellationToken ct)
        {
            await ResetSessionStateAsync(ct).ConfigureAwait(false);
            // RFC 4217 s.13: the reply goes out protected, then TLS is cleared and the session is back to cleartext.
            await ReplyAsync(220, "Service ready for new user.").ConfigureAwait(false);
            await _tls.ClearAsync(ct).ConfigureAwait(false);
            if (_rfc2228 != null && (_rfc2228.Mechanism != null || _rfc2228.IsEstablished))
            {
                _rfc2228.Dispose();
                _rfc2228 = CreateRfc2228Negotiation();
                _log(SecureFtpServerLogKind.Info, "REIN: the RFC 2228 security context is cleared; the control connection is in cleartext again.");
            }
        }

        private async Task ResetSessionStateAsync(CancellationToken ct)
        {
            await _data.CancelTransferAsync().ConfigureAwait(false);
            _data.Reset();
            _epsvAll = false;
            await _handler.ReinitializeAsync(ct).ConfigureAwait(false);
            // A user who was logged in gets a fresh login deadline; one who never was keeps the running one.
            if (IsLoggedIn) _loginDeadline = DateTime.UtcNow + _options.LoginTimeout;
            IsLoggedIn = false;
        }

        private async Task PassiveAsync(bool extended, string argument)
        {
            var local = _control.LocalEndPoint.Address;
            if (extended)
            {
                string arg = argument.Trim().ToUpperInvariant();
                if (arg == "ALL")
                {
                    _epsvAll = true;
                    await ReplyAsync(200, "EPSV ALL accepted: only EPSV from now on.").ConfigureAwait(false);
                    return;
                }
                string family = local.AddressFamily == AddressFamily.InterNetworkV6 && !local.IsIPv4MappedToIPv6 ? "2" : "1";
                if (arg.Length > 0 && arg != family)
                {
                    await ReplyAsync(522, $"Network protocol not supported, use ({family}).").ConfigureAwait(false);
                    return;
                }
                var endPoint = _data.ListenPassive(local);
                await ReplyAsync(229, $"Entering Extended Passive Mode (|||{endPoint.Port}|).").ConfigureAwait(false);
                return;
            }
            if (_epsvAll)
            {
                await ReplyAsync(501, "PASV refused after EPSV ALL.").ConfigureAwait(false);
                return;
            }
            var announce = _options.PassiveAddress ?? (local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);
            if (announce.AddressFamily != AddressFamily.InterNetwork)
            {
                await ReplyAsync(501, "PASV cannot name an IPv6 address; use EPSV.").ConfigureAwait(false);
                return;
            }
            var listening = _data.ListenPassive(local);
            await ReplyAsync(227, $"Entering Passive Mode ({SecureFtp.Data.PassiveReplyParser.FormatPort(new IPEndPoint(announce, listening.Port))}).").ConfigureAwait(false);
        }

        private async Task ActiveAsync(string verb, string argument)
        {
            if (_epsvAll)
            {
                await ReplyAsync(501, $"{verb} refused after EPSV ALL.").ConfigureAwait(false);
                return;
            }
            var target = verb == "PORT" ? ServerDataChannel.ParseHostPort(argument) : ServerDataChannel.ParseExtendedAddress(argument);
            if (target == null)
            {
                await ReplyAsync(501, $"{verb} argument is malformed.").ConfigureAwait(false);
                return;
            }
            // Bounce attacks (RFC 2577): data goes only to the client's own address, never to a privileged port.
            if (!ServerDataChannel.SameHost(target.Address, _clientAddress) || target.Port < 1024)
            {
                _log(SecureFtpServerLogKind.Warning, $"Refused {verb} to {target}: not the client's address or a privileged port.");
                await ReplyAsync(500, $"Illegal {verb} command: data connections go only to the client's own address and an unprivileged port.").ConfigureAwait(false);
                return;
            }
            _data.SetActive(target);
            await ReplyAsync(200, $"{verb} command successful.").ConfigureAwait(false);
        }

        private IEnumerable<string> OfferedMechanisms()
        {
            foreach (var m in ServerMechanisms.Offered(_options)) yield return m.Name.AuthName;
        }

        public static bool IsAnonymousName(string user)
            => string.Equals(user.Trim(), "anonymous", StringComparison.OrdinalIgnoreCase) || string.Equals(user.Trim(), "ftp", StringComparison.OrdinalIgnoreCase);

        // ---- replies ----

        public Task ReplyAsync(int code, params string[] lines) => ReplyAsync(code, (IReadOnlyList<string>)lines);

        public async Task ReplyAsync(int code, IReadOnlyList<string> lines)
        {
            _log(SecureFtpServerLogKind.Reply, $"{code} {(lines.Count > 0 ? lines[0] : "")}{(lines.Count > 1 ? $" (+{lines.Count - 1} lines)" : "")}");
            await _replyLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                var wire = _rfc2228 != null && _control.Tls == null ? _rfc2228.FormatReply(code, lines) : ServerControlChannel.FormatReply(code, lines);
                await _control.WriteLinesAsync(wire, CancellationToken.None).ConfigureAwait(false);
            }
            finally { _replyLock.Release(); }
        }

        private async Task TryReplyAsync(int code, string text)
        {
            try { await ReplyAsync(code, text).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException) { }
        }

        // ---- data transfers (run by ServerDataChannel; the front end says how each connection is protected) ----

        /// <summary>Runs a transfer in the background; the command loop meanwhile answers ABOR and STAT.</summary>
        public void StartTransfer(Func<CancellationToken, Task> transfer, CancellationToken ct) => _data.StartTransfer(transfer, ct);

        /// <inheritdoc cref="ServerDataChannel.TransferAsync"/>
        public Task<bool> TransferAsync(string opening, Func<Stream, CancellationToken, Task> copy, CancellationToken ct, Func<string>? failureNote = null)
            => _data.TransferAsync(opening, copy, ct, failureNote);

        /// <inheritdoc cref="ServerDataChannel.CopyAsync"/>
        public Task CopyAsync(Stream source, Stream destination, CancellationToken ct, Func<byte[], int, ArraySegment<byte>>? convert = null)
            => _data.CopyAsync(source, destination, ct, convert);

        /// <summary>Protects a fresh data connection as the mechanism in force says: RFC 2228 blocks, TLS, or nothing.</summary>
        private Task<ServerDataConnection> ProtectDataAsync(Socket socket, CancellationToken ct)
        {
            if (Rfc2228Established && _rfc2228!.DataProtection != DataProtectionLevel.Clear)
            {
                var raw = new NetworkStream(socket, ownsSocket: false);
                // RFC 2228 s.9 blocks. Sending: the end-of-file block marks the file complete. Receiving: reading
                // returns 0 only after the client's end-of-file block, so the 226 waits for it (the SafeTP paper,
                // s.5.4), and nothing may follow it: bytes after it were not covered by it, so the upload is not complete.
                var blocks = (ProtectedDataStream)_rfc2228.OpenDataStream(raw);
                var checkedBlocks = new VerifiedEndStream(blocks, token => VerifiedEndStream.NothingAfterEndOfFileAsync(raw, token));
                return Task.FromResult(new ServerDataConnection(socket, checkedBlocks,
                    () => blocks.ReachedEndOfFile ? Task.CompletedTask : blocks.CompleteAsync(CancellationToken.None), blocks.Abort));
            }
            return _tls.ProtectDataAsync(socket, ct);
        }

        private static string Argument(string line)
        {
            int sp = line.IndexOf(' ');
            return sp < 0 ? string.Empty : line.Substring(sp + 1);
        }

        public void Dispose()
        {
            _data.Dispose();
            _handler.Dispose();
            _rfc2228?.Dispose();
            _control.Dispose();
        }
    }
}
