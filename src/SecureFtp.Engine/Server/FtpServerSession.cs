using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
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
    /// (RFC 4217 s.10, seed 000 s.6), runs data transfers in the background so ABOR and STAT are heard, and hands
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
        private readonly ServerDataChannel _data = new ServerDataChannel();
        private readonly IPAddress _clientAddress;
        private string? _tlsMechanism;
        private bool _bufferSizeSet;
        private bool _epsvAll;
        private DataProtectionLevel _dataProtection = DataProtectionLevel.Clear;
        private Task? _transfer;
        private CancellationTokenSource? _transferCancel;
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
            _rfc2228 = CreateRfc2228Negotiation();
            _loginDeadline = DateTime.UtcNow + options.LoginTimeout;
        }

        private Rfc2228ServerNegotiation? CreateRfc2228Negotiation()
        {
            var offered = OfferedMechanisms().Where(m => _options.Rfc2228Mechanisms.ContainsKey(m)).ToList();
            if (offered.Count == 0) return null;
            var connection = new SecureFtpServerConnection(_control.LocalEndPoint, _control.RemoteEndPoint);
            return new Rfc2228ServerNegotiation(name =>
            {
                var match = offered.FirstOrDefault(m => string.Equals(m, name.Trim(), StringComparison.OrdinalIgnoreCase));
                return match != null ? _options.Rfc2228Mechanisms[match](connection) : null;
            });
        }

        private bool Rfc2228Established => _rfc2228 != null && _rfc2228.IsEstablished;

        public SecureFtpServerOptions Options => _options;
        public IPAddress ClientAddress => _clientAddress;

        /// <summary>True once TLS (or an RFC 2228 mechanism) protects the control connection.</summary>
        public bool IsControlProtected => _control.Tls != null || Rfc2228Established;

        public DataProtectionLevel DataProtection => Rfc2228Established ? _rfc2228!.DataProtection : _dataProtection;

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
                if (implicitTls)
                {
                    await _control.StartTlsAsync(_options.Certificate!, _options.TlsProtocols, _options.DataTimeout, ct).ConfigureAwait(false);
                    _tlsMechanism = "Implicit TLS";
                    // Seed 001: connections on the implicit port start with private data, as clients expect.
                    _dataProtection = DataProtectionLevel.Private;
                    _log(SecureFtpServerLogKind.Info, $"Implicit TLS established ({Describe(_control.Tls!)}).");
                }
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
                await CancelTransferAsync().ConfigureAwait(false);
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
                    if (_transfer != null && !_transfer.IsCompleted) continue;
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

        /// <summary>Handles one line; false ends the session.</summary>
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
                // RFC 2228: AUTH for an ADAT mechanism, ADAT, and after 235 every ENC/MIC/CONF line, PBSZ, PROT, CCC
                // and DIGT are the negotiation's; it hands back the plain command for everything else.
                Rfc2228ServerStep step;
                await _replyLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try { step = _rfc2228.Receive(line); }
                finally { _replyLock.Release(); }
                if (step.Reply != null)
                {
                    string verbSeen = FtpCommand.Verb(line);
                    _log(SecureFtpServerLogKind.Command, verbSeen == "ADAT" ? $"ADAT ({Argument(line).Length} base64 characters)"
                        : step.WasProtected ? $"{verbSeen} (protected; answered by {_rfc2228.Mechanism?.MechanismName})" : FtpCommand.Redact(line));
                    _log(SecureFtpServerLogKind.Reply, step.WasProtected || Rfc2228Established ? "(protected reply)" : step.Reply[0]);
                    await _control.WriteLinesAsync(step.Reply, CancellationToken.None).ConfigureAwait(false);
                    if (step.CloseConnection) _log(SecureFtpServerLogKind.Warning, "A protected command failed its integrity check; closing.");
                    else if (Rfc2228Established && step.Reply[0].StartsWith("235", StringComparison.Ordinal))
                        _log(SecureFtpServerLogKind.Info, $"AUTH {_rfc2228.Mechanism!.MechanismName}: security data exchange complete ({_rfc2228.Details}).");
                    return !step.CloseConnection;
                }
                line = step.Command!;
            }
            string verb = FtpCommand.Verb(line).Trim();
            string argument = Argument(line);
            _log(SecureFtpServerLogKind.Command, FtpCommand.Redact(line));

            if (_transfer != null && !_transfer.IsCompleted)
            {
                switch (verb)
                {
                    case "ABOR":
                        await CancelTransferAsync().ConfigureAwait(false);
                        await ReplyAsync(226, "ABOR command successful.").ConfigureAwait(false);
                        return true;
                    case "STAT":
                        await ReplyAsync(213, "Status: a data transfer is in progress.").ConfigureAwait(false);
                        return true;
                    default:
                        // RFC 959: commands are answered in order; the next one waits for the transfer's reply.
                        try { await _transfer.ConfigureAwait(false); } catch (Exception) { }
                        break;
                }
            }

            switch (verb)
            {
                case "AUTH": return await AuthAsync(argument, ct).ConfigureAwait(false);
                case "PBSZ": await PbszAsync(argument).ConfigureAwait(false); return true;
                case "PROT": await ProtAsync(argument).ConfigureAwait(false); return true;
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
            }

            if (!IsLoggedIn && !PreLoginCommands.Contains(verb))
            {
                await ReplyAsync(530, "Please log in with USER and PASS first.").ConfigureAwait(false);
                return true;
            }

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
                    if (Rfc2228Established && _rfc2228!.Mechanism is SecureFtp.Security.Kea.KeaServerSecurity kea && !kea.IsUserAllowed(argument.Trim()))
                    {
                        // RFC 2773: the certificate authenticated the client; it may log in only as a user it is mapped to.
                        _log(SecureFtpServerLogKind.Warning, $"Refused USER '{argument.Trim()}': the client's KEA certificate is not mapped to it.");
                        await ReplyAsync(530, $"The KEA certificate presented is not allowed to log in as {argument.Trim()}.").ConfigureAwait(false);
                        return true;
                    }
                    break;
                case "PASV": await PassiveAsync(extended: false, argument).ConfigureAwait(false); return true;
                case "EPSV": await PassiveAsync(extended: true, argument).ConfigureAwait(false); return true;
                case "PORT":
                case "EPRT": await ActiveAsync(verb, argument).ConfigureAwait(false); return true;
            }

            if (DataProtection != DataProtectionLevel.Clear && !_handler.IsKnownCommand(verb))
            {
                // Seed 000 s.6.3: an unknown command could open a data connection we do not protect.
                await ReplyAsync(502, $"{verb} is not allowed while data protection is on: the server cannot tell whether it moves data.").ConfigureAwait(false);
                return true;
            }
            if (DataCommands.Contains(verb))
            {
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
            }
            await _handler.HandleAsync(this, verb, argument, ct).ConfigureAwait(false);
            return true;
        }

        private async Task<bool> AuthAsync(string argument, CancellationToken ct)
        {
            string name = argument.Trim().ToUpperInvariant();
            string? tls = name switch { "TLS" or "TLS-C" => "TLS", "SSL" or "TLS-P" => "SSL", _ => null };
            if (IsControlProtected)
            {
                await ReplyAsync(503, $"The control connection is already protected by {_tlsMechanism}.").ConfigureAwait(false);
                return true;
            }
            if (tls == null || _options.Certificate == null || !Offers(tls))
            {
                await ReplyAsync(504, $"AUTH {name} is not offered here. Offered: {string.Join(", ", OfferedMechanisms().DefaultIfEmpty("none"))}.").ConfigureAwait(false);
                return true;
            }
            // RFC 4217 s.4: after AUTH the user logs in again and every transfer parameter is reset.
            await ResetSessionStateAsync(ct).ConfigureAwait(false);
            await ReplyAsync(234, $"AUTH {name} successful; starting TLS.").ConfigureAwait(false);
            try
            {
                await _control.StartTlsAsync(_options.Certificate, _options.TlsProtocols, _options.DataTimeout, ct).ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                // RFC 4217 s.10.1: a handshake that failed half-way leaves the connection in an unknown state: drop it.
                _log(SecureFtpServerLogKind.Warning, e.Message);
                return false;
            }
            _tlsMechanism = tls;
            // Seed 001: AUTH SSL / TLS-P protects data without PROT.
            _dataProtection = tls == "SSL" ? DataProtectionLevel.Private : DataProtectionLevel.Clear;
            _bufferSizeSet = tls == "SSL";
            _log(SecureFtpServerLogKind.Info, $"AUTH {name}: TLS established ({Describe(_control.Tls!)}).");
            return true;
        }

        private async Task PbszAsync(string argument)
        {
            if (!IsControlProtected)
            {
                await ReplyAsync(503, "PBSZ needs a security exchange first (AUTH TLS).").ConfigureAwait(false);
                return;
            }
            if (!uint.TryParse(argument.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                await ReplyAsync(501, "PBSZ needs a decimal size.").ConfigureAwait(false);
                return;
            }
            // RFC 4217 s.9: TLS is a stream; the buffer size is always 0.
            _bufferSizeSet = true;
            await ReplyAsync(200, "PBSZ=0").ConfigureAwait(false);
        }

        private async Task ProtAsync(string argument)
        {
            if (!IsControlProtected)
            {
                await ReplyAsync(503, "PROT needs a security exchange first (AUTH TLS, then PBSZ 0).").ConfigureAwait(false);
                return;
            }
            if (!_bufferSizeSet)
            {
                await ReplyAsync(503, "PROT needs PBSZ first (PBSZ 0).").ConfigureAwait(false);
                return;
            }
            switch (argument.Trim().ToUpperInvariant())
            {
                case "C":
                    if (_options.RequireProtectedData)
                    {
                        _log(SecureFtpServerLogKind.Warning, "Refused PROT C: the server requires protected data connections.");
                        await ReplyAsync(534, "PROT C refused: this server requires protected data connections (PROT P).").ConfigureAwait(false);
                        return;
                    }
                    _dataProtection = DataProtectionLevel.Clear;
                    await ReplyAsync(200, "Protection level set to Clear.").ConfigureAwait(false);
                    return;
                case "P":
                    _dataProtection = DataProtectionLevel.Private;
                    await ReplyAsync(200, "Protection level set to Private.").ConfigureAwait(false);
                    return;
                case "S":
                case "E":
                    await ReplyAsync(536, "TLS protects data connections as Private (P) or not at all (C).").ConfigureAwait(false);
                    return;
                default:
                    await ReplyAsync(504, "PROT takes C, S, E or P.").ConfigureAwait(false);
                    return;
            }
        }

        private async Task FeaturesAsync(CancellationToken ct)
        {
            var lines = new List<string> { "Extensions supported:" };
            var offered = OfferedMechanisms().ToList();
            if (offered.Count > 0)
            {
                var names = new List<string>();
                foreach (var m in offered)
                {
                    if (m == "TLS") names.AddRange(new[] { "TLS", "TLS-C" });
                    else if (m == "SSL") names.AddRange(new[] { "SSL", "TLS-P" });
                    else names.Add(m);
                }
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
            if (_control.Tls != null)
            {
                await _control.StopTlsAsync(_options.DataTimeout, ct).ConfigureAwait(false);
                _log(SecureFtpServerLogKind.Info, "REIN: TLS cleared; the control connection is in cleartext again.");
            }
            if (_rfc2228 != null && (_rfc2228.Mechanism != null || _rfc2228.IsEstablished))
            {
                _rfc2228.Dispose();
                _rfc2228 = CreateRfc2228Negotiation();
                _log(SecureFtpServerLogKind.Info, "REIN: the RFC 2228 security context is cleared; the control connection is in cleartext again.");
            }
            _tlsMechanism = null;
            _bufferSizeSet = false;
            _dataProtection = DataProtectionLevel.Clear;
        }

        private async Task ResetSessionStateAsync(CancellationToken ct)
        {
            await CancelTransferAsync().ConfigureAwait(false);
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
            await ReplyAsync(227, $"Entering Passive Mode ({ServerDataChannel.FormatHostPort(new IPEndPoint(announce, listening.Port))}).").ConfigureAwait(false);
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
            foreach (var m in _options.Mechanisms)
            {
                string name = m.Trim().ToUpperInvariant();
                if ((name == "TLS" || name == "SSL") && _options.Certificate != null) yield return name;
                else if (_options.Rfc2228Mechanisms.ContainsKey(m.Trim())) yield return m.Trim();
            }
        }

        private bool Offers(string mechanism) => OfferedMechanisms().Contains(mechanism);

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

        // ---- data transfers ----

        /// <summary>Runs a transfer in the background; the command loop meanwhile answers ABOR and STAT.</summary>
        public void StartTransfer(Func<CancellationToken, Task> transfer, CancellationToken ct)
        {
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _transferCancel = cancel;
            _transfer = Task.Run(async () =>
            {
                try { await transfer(cancel.Token).ConfigureAwait(false); }
                catch (Exception e)
                {
                    _log(SecureFtpServerLogKind.Error, "Transfer failed: " + e.Message);
                    await TryReplyAsync(451, "Transfer failed: local error in processing.").ConfigureAwait(false);
                }
            });
        }

        private async Task CancelTransferAsync()
        {
            var transfer = _transfer;
            if (transfer == null) return;
            try { _transferCancel?.Cancel(); } catch (ObjectDisposedException) { }
            try { await transfer.ConfigureAwait(false); } catch (Exception) { }
            _transfer = null;
            _transferCancel?.Dispose();
            _transferCancel = null;
        }

        /// <summary>Sends 150, opens the data connection (protected as PROT says), runs <paramref name="copy"/> and
        /// closes the connection the way the protection requires. On failure replies 425 (no connection),
        /// 522 (TLS refused on it) or 426 (cut or aborted) and returns false; on success sends nothing more, so
        /// the caller decides the final reply (226, or 451 when saving the upload failed). <paramref name="failureNote"/>
        /// adds to a 426 what the client can do (an upload's resume offset).</summary>
        public async Task<bool> TransferAsync(string opening, Func<Stream, CancellationToken, Task> copy, CancellationToken ct, Func<string>? failureNote = null)
        {
            await ReplyAsync(150, opening).ConfigureAwait(false);
            ServerDataConnection connection;
            try
            {
                connection = await OpenDataConnectionAsync(ct).ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                _log(SecureFtpServerLogKind.Warning, e.Message);
                if (e.Kind == FtpErrorKind.Security) await ReplyAsync(522, "TLS negotiation on the data connection failed: " + e.Message).ConfigureAwait(false);
                else await ReplyAsync(425, "Can't open data connection: " + e.Message).ConfigureAwait(false);
                return false;
            }
            catch (OperationCanceledException)
            {
                await ReplyAsync(426, "Transfer aborted.").ConfigureAwait(false);
                return false;
            }
            using (connection)
            {
                try
                {
                    await copy(connection.Stream, ct).ConfigureAwait(false);
                    await connection.CompleteAsync().ConfigureAwait(false);
                    return true;
                }
                catch (OperationCanceledException)
                {
                    connection.Abort();
                    await ReplyAsync(426, "Transfer aborted." + (failureNote != null ? " " + failureNote() : "")).ConfigureAwait(false);
                    return false;
                }
                catch (FtpException e) when (e.Kind == FtpErrorKind.Truncated)
                {
                    connection.Abort();
                    _log(SecureFtpServerLogKind.Warning, e.Message);
                    await ReplyAsync(426, "Transfer incomplete: " + e.Message + (failureNote != null ? " " + failureNote() : "")).ConfigureAwait(false);
                    return false;
                }
                catch (Exception e) when (e is IOException or SocketException or FtpException or ObjectDisposedException)
                {
                    connection.Abort();
                    _log(SecureFtpServerLogKind.Warning, "Data connection failed: " + e.Message);
                    await ReplyAsync(426, "Connection closed; transfer aborted." + (failureNote != null ? " " + failureNote() : "")).ConfigureAwait(false);
                    return false;
                }
            }
        }

        private async Task<ServerDataConnection> OpenDataConnectionAsync(CancellationToken ct)
        {
            var socket = await _data.ConnectAsync(_clientAddress, _options.DataTimeout, ct).ConfigureAwait(false);
            try
            {
                var raw = new NetworkStream(socket, ownsSocket: false);
                if (Rfc2228Established && _rfc2228!.DataProtection != DataProtectionLevel.Clear)
                {
                    // RFC 2228 s.9 blocks. Sending: the end-of-file block marks the file complete. Receiving: reading
                    // returns 0 only after the client's end-of-file block, so the 226 waits for it (seed 000 s.5.4).
                    var blocks = (ProtectedDataStream)_rfc2228.OpenDataStream(raw);
                    // Nothing may follow the end-of-file block: bytes after it were not covered by it (appended by
                    // someone on the path, or a client that is not done), so the upload is not complete.
                    var checkedBlocks = new VerifiedEndStream(blocks, token => NothingAfterEndOfFileAsync(raw, token));
                    return new ServerDataConnection(socket, checkedBlocks,
                        () => blocks.ReachedEndOfFile ? Task.CompletedTask : blocks.CompleteAsync(CancellationToken.None), blocks.Abort);
                }
                if (_dataProtection == DataProtectionLevel.Clear || _control.Tls == null)
                    return new ServerDataConnection(socket, raw, null);
                var watcher = new TlsRecordWatcher(raw);
                var tls = new SslStream(watcher, leaveInnerStreamOpen: false);
                await TlsServer.AuthenticateAsync(tls, _options.Certificate!, TlsServer.DataConnectionProtocols(_options.TlsProtocols), _options.DataTimeout, ct, issueTickets: false).ConfigureAwait(false);
                // RFC 4217 s.12.6: an upload is complete only when the client closed TLS with close_notify; a bare TCP
                // close (a cut connection, or a forged FIN) leaves a truncated file.
                var checkedTls = new VerifiedEndStream(tls, _ => watcher.EndedWithAlert(tls) ? Task.CompletedTask
                    : Task.FromException(VerifiedEndStream.Truncated("The data connection closed without TLS close_notify: the upload is incomplete (cut by the network or by someone on the path).")));
                return new ServerDataConnection(socket, checkedTls, () => TlsServer.ShutdownAsync(tls));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>After an RFC 2228 end-of-file block: the client closes, or at least sends nothing more. Bytes that
        /// arrive within a short wait make the upload incomplete; a client that keeps the connection open is given
        /// the benefit of the doubt after that wait.</summary>
        private static async Task NothingAfterEndOfFileAsync(Stream raw, CancellationToken ct)
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
            if (n > 0) throw VerifiedEndStream.Truncated("The client sent data after the end-of-file block: the upload is not complete as sent.");
        }

        /// <summary>Copies with a stall timeout: a peer that stops sending or reading for DataTimeout ends the transfer.</summary>
        public async Task CopyAsync(Stream source, Stream destination, CancellationToken ct, Func<byte[], int, ArraySegment<byte>>? convert = null)
        {
            var buffer = new byte[64 * 1024];
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
            while (true)
            {
                stall.CancelAfter(_options.DataTimeout);
                int n = await source.ReadAsync(buffer, 0, buffer.Length, stall.Token).ConfigureAwait(false);
                if (n == 0) return;
                var chunk = convert != null ? convert(buffer, n) : new ArraySegment<byte>(buffer, 0, n);
                await destination.WriteAsync(chunk.Array!, chunk.Offset, chunk.Count, stall.Token).ConfigureAwait(false);
                if (ct.IsCancellationRequested) ct.ThrowIfCancellationRequested();
            }
        }

        private static string Describe(SslStream tls) => $"{tls.SslProtocol}, {tls.CipherAlgorithm}";

        private static string Argument(string line)
        {
            int sp = line.IndexOf(' ');
            return sp < 0 ? string.Empty : line.Substring(sp + 1);
        }

        public void Dispose()
        {
            _transferCancel?.Cancel();
            _data.Dispose();
            _handler.Dispose();
            _rfc2228?.Dispose();
            _control.Dispose();
        }
    }
}
