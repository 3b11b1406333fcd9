using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security.Tls;
using SecureFtp.Trust;

namespace SecureFtp.Diagnostics
{
    // Test-SecureFtpServer's probe: connections.
    internal sealed partial class ProbeRun
    {
        private async Task<FtpControlConnection> OpenPlainAsync(CancellationToken ct)
        {
            var connection = await FtpControlConnection.OpenAsync(_options.Host, _options.Port, _options.Timeout, Utf8, ct).ConfigureAwait(false);
            connection.Trace = _options.Trace;
            try
            {
                var greeting = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                if (greeting.Code != 220)
                    throw new FtpException(FtpErrorKind.Connection, "ServiceUnavailable", $"{_options.Host}:{_options.Port} greeted with {greeting} instead of 220.", greeting);
                _result.Greeting ??= greeting.ToString();
                return connection;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>A connection ready for the client's first handshake byte: after a 234/334 to AUTH, or at once for implicit TLS.</summary>
        private async Task<FtpControlConnection> OpenBeforeHandshakeAsync(TlsRoute route, CancellationToken ct)
        {
            if (route == TlsRoute.Implicit)
            {
                var implicitConnection = await FtpControlConnection.OpenAsync(_options.Host, _options.ImplicitTlsPort, _options.Timeout, Utf8, ct).ConfigureAwait(false);
                implicitConnection.Trace = _options.Trace;
                return implicitConnection;
            }
            var connection = await OpenPlainAsync(ct).ConfigureAwait(false);
            try
            {
                var auth = await connection.ExecuteAsync(route == TlsRoute.AuthTls ? "AUTH TLS" : "AUTH SSL", ct).ConfigureAwait(false);
                if (auth.Code is not (234 or 334))
                    throw new FtpException(FtpErrorKind.Security, "AuthRefused", $"AUTH was refused: {auth}.", auth);
                return connection;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        private async Task<(FtpControlConnection, ProbeTlsSession)> OpenTlsAsync(TlsRoute route, SslProtocols? protocols, IEnumerable<string>? suites, bool allowResume, CancellationToken ct)
        {
            var connection = await OpenBeforeHandshakeAsync(route, ct).ConfigureAwait(false);
            try
            {
                var session = await ProbeTls.HandshakeAsync(connection.Transport, _options.Host, protocols, suites, allowResume, _options.Timeout, ct).ConfigureAwait(false);
                connection.ReplaceTransport(session.Stream);
                if (route == TlsRoute.Implicit)
                {
                    var greeting = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                    if (greeting.Code != 220)
                        throw new FtpException(FtpErrorKind.Connection, "ServiceUnavailable", $"{_options.Host}:{_options.ImplicitTlsPort} greeted with {greeting} after the TLS handshake.", greeting);
                }
                return (connection, session);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        private static async Task QuitAsync(FtpControlConnection connection, CancellationToken ct)
        {
            try { await connection.ExecuteAsync("QUIT", ct).ConfigureAwait(false); }
            catch (FtpException) { /* the server may close first; the probe has what it came for */ }
        }
    }
}
