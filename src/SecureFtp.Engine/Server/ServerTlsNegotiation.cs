using System;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Security;

namespace SecureFtp.Server
{
    /// <summary>The TLS half of the server's security front end (RFC 4217), the counterpart of
    /// <see cref="SecureFtp.Security.Rfc2228.Rfc2228ServerNegotiation"/>: starts TLS on the control connection (AUTH
    /// TLS/SSL, the implicit port), answers PBSZ and PROT for it, clears it on REIN, and puts TLS on data connections
    /// as PROT says. Which mechanisms are offered and what is reset around AUTH are the session's decisions.</summary>
    internal sealed class ServerTlsNegotiation
    {
        private readonly SecureFtpServerOptions _options;
        private readonly ServerControlChannel _control;
        private readonly Func<int, string, Task> _reply;
        private readonly Action<SecureFtpServerLogKind, string> _log;
        private bool _bufferSizeSet;

        public ServerTlsNegotiation(SecureFtpServerOptions options, ServerControlChannel control, Func<int, string, Task> reply, Action<SecureFtpServerLogKind, string> log)
        {
            _options = options;
            _control = control;
            _reply = reply;
            _log = log;
        }

        /// <summary>"TLS", "SSL" or "Implicit TLS" once TLS protects the control connection; null in cleartext.</summary>
        public string? Mechanism { get; private set; }

        public bool IsEstablished => _control.Tls != null;

        /// <summary>The PROT level for TLS data connections.</summary>
        public DataProtectionLevel DataProtection { get; private set; } = DataProtectionLevel.Clear;

        /// <summary>The implicit port: TLS before the greeting.</summary>
        public async Task StartImplicitAsync(CancellationToken ct)
        {
            await _control.StartTlsAsync(_options.Certificate!, _options.TlsProtocols, _options.DataTimeout, ct).ConfigureAwait(false);
            Mechanism = "Implicit TLS";
            // draft-murray-auth-ftp-ssl: connections on the implicit port start with private data, as clients expect.
            DataProtection = DataProtectionLevel.Private;
            _log(SecureFtpServerLogKind.Info, $"Implicit TLS established ({Describe(_control.Tls!)}).");
        }

        /// <summary>AUTH TLS or AUTH SSL, offered and accepted by the session: sends 234 and runs the handshake. False
        /// when the handshake failed: the connection is then in an unknown state and must be dropped (RFC 4217 s.10.1).</summary>
        /// <param name="mechanism">The TLS registration the client asked for: TLS (TLS-C) or SSL (TLS-P, private data from the start).</param>
        /// <param name="name">The name the client asked for, for the reply and the log.</param>
        /// <param name="ct">Cancels the handshake (the server is stopping).</param>
        public async Task<bool> AuthAsync(ServerMechanismRegistration mechanism, string name, CancellationToken ct)
        {
            await _reply(234, $"AUTH {name} successful; starting TLS.").ConfigureAwait(false);
            try
            {
                await _control.StartTlsAsync(_options.Certificate!, _options.TlsProtocols, _options.DataTimeout, ct).ConfigureAwait(false);
            }
            catch (FtpException e)
            {
                _log(SecureFtpServerLogKind.Warning, e.Message);
                return false;
            }
            Mechanism = mechanism.Name.AuthName;
            // draft-murray-auth-ftp-ssl: AUTH SSL / TLS-P protects data without PROT.
            DataProtection = mechanism.ImpliesPrivateData ? DataProtectionLevel.Private : DataProtectionLevel.Clear;
            _bufferSizeSet = mechanism.ImpliesPrivateData;
            _log(SecureFtpServerLogKind.Info, $"AUTH {name}: TLS established ({Describe(_control.Tls!)}).");
            return true;
        }

        public async Task PbszAsync(string argument)
        {
            if (!IsEstablished)
            {
                await _reply(503, "PBSZ needs a security exchange first (AUTH TLS).").ConfigureAwait(false);
                return;
            }
            if (!uint.TryParse(argument.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                await _reply(501, "PBSZ needs a decimal size.").ConfigureAwait(false);
                return;
            }
            // RFC 4217 s.9: TLS is a stream; the buffer size is always 0.
            _bufferSizeSet = true;
            await _reply(200, "PBSZ=0").ConfigureAwait(false);
        }

        public async Task ProtAsync(string argument)
        {
            if (!IsEstablished)
            {
                await _reply(503, "PROT needs a security exchange first (AUTH TLS, then PBSZ 0).").ConfigureAwait(false);
                return;
            }
            if (!_bufferSizeSet)
            {
                await _reply(503, "PROT needs PBSZ first (PBSZ 0).").ConfigureAwait(false);
                return;
            }
            switch (argument.Trim().ToUpperInvariant())
            {
                case "C":
                    if (_options.RequireProtectedData)
                    {
                        _log(SecureFtpServerLogKind.Warning, "Refused PROT C: the server requires protected data connections.");
                        await _reply(534, "PROT C refused: this server requires protected data connections (PROT P).").ConfigureAwait(false);
                        return;
                    }
                    DataProtection = DataProtectionLevel.Clear;
                    await _reply(200, "Protection level set to Clear.").ConfigureAwait(false);
                    return;
                case "P":
                    DataProtection = DataProtectionLevel.Private;
                    await _reply(200, "Protection level set to Private.").ConfigureAwait(false);
                    return;
                case "S":
                case "E":
                    await _reply(536, "TLS protects data connections as Private (P) or not at all (C).").ConfigureAwait(false);
                    return;
                default:
                    await _reply(504, "PROT takes C, S, E or P.").ConfigureAwait(false);
                    return;
            }
        }

        /// <summary>REIN (RFC 4217 s.13), after its reply went out protected: TLS is cleared and the session goes on in
        /// cleartext, with PBSZ and PROT forgotten.</summary>
        public async Task ClearAsync(CancellationToken ct)
        {
            if (_control.Tls != null)
            {
                await _control.StopTlsAsync(_options.DataTimeout, ct).ConfigureAwait(false);
                _log(SecureFtpServerLogKind.Info, "REIN: TLS cleared; the control connection is in cleartext again.");
            }
            Mechanism = null;
            _bufferSizeSet = false;
            DataProtection = DataProtectionLevel.Clear;
        }

        /// <summary>Puts a data connection under TLS when PROT P is in force on a TLS session, or leaves it clear. An
        /// upload over TLS is complete only when the client ends it with close_notify (RFC 4217 s.12.6): a bare TCP
        /// close (a cut connection, or a forged FIN) makes reading fail as truncated.</summary>
        public async Task<ServerDataConnection> ProtectDataAsync(Socket socket, CancellationToken ct)
        {
            var raw = new NetworkStream(socket, ownsSocket: false);
            if (DataProtection == DataProtectionLevel.Clear || _control.Tls == null)
                return new ServerDataConnection(socket, raw, null);
            var watcher = new TlsRecordWatcher(raw);
            var tls = new SslStream(watcher, leaveInnerStreamOpen: false);
            await TlsServer.AuthenticateAsync(tls, _options.Certificate!, TlsServer.DataConnectionProtocols(_options.TlsProtocols), _options.DataTimeout, issueTickets: false, ct).ConfigureAwait(false);
            var checkedTls = new VerifiedEndStream(tls, _ => watcher.EndedWithAlert(tls) ? Task.CompletedTask
                : Task.FromException(VerifiedEndStream.Truncated("The data connection closed without TLS close_notify: the upload is incomplete (cut by the network or by someone on the path).")));
            return new ServerDataConnection(socket, checkedTls, () => TlsServer.ShutdownAsync(tls));
        }

        private static string Describe(SslStream tls) => $"{tls.SslProtocol}, {tls.CipherAlgorithm}";
    }
}
