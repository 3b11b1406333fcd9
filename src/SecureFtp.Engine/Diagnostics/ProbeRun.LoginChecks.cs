using System;
using System.Collections.Generic;
using System.Globalization;
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
    // Test-SecureFtpServer's probe: checks that need a login.
    internal sealed partial class ProbeRun
    {
        private async Task LoginChecksAsync(TlsRoute route, CancellationToken ct)
        {
            using (var connection = await LogInAsync(route, ct).ConfigureAwait(false))
            {
                if (connection == null) return;
                var protC = await connection.ExecuteAsync("PROT C", ct).ConfigureAwait(false);
                if (!protC.IsCompletion)
                {
                    _result.ClearDataReply = protC.ToString();
                    _result.ProtPRequired = protC.Code / 100 == 5 ? true : (bool?)null;
                }
                else
                {
                    var list = await ListAsync(connection, tls: false, ct).ConfigureAwait(false);
                    _result.ClearDataReply = list.ToString();
                    _result.ProtPRequired = list.IsCompletion ? false : list.Code is 521 or 522 or 533 or 534 or 536 ? true : (bool?)null;
                    if (_result.ProtPRequired == null) Note($"A PROT C listing got an unexpected reply: {list}.");
                }

                var protP = await connection.ExecuteAsync("PROT P", ct).ConfigureAwait(false);
                if (!protP.IsCompletion)
                    Note($"PROT P was refused ({protP}): TLS session reuse on data connections was not checked.");
                else
                {
                    var list = await ListAsync(connection, tls: true, ct).ConfigureAwait(false);
                    _result.FreshSessionDataReply = list.ToString();
                    // 522 is vsftpd's "session reuse required"; 425/426/450 are how others refuse the data connection.
                    _result.RequiresTlsSessionResumption = list.IsCompletion ? false : list.Code is 522 or 425 or 426 or 450 or 534 ? true : (bool?)null;
                    if (_result.RequiresTlsSessionResumption == null) Note($"A PROT P listing on a fresh TLS session got an unexpected reply: {list}.");
                }
                // vsftpd ends the whole session after refusing a data connection: QUIT may meet a closed connection.
                await QuitAsync(connection, ct).ConfigureAwait(false);
            }

            // CCC on a session of its own, since the checks above may have ended theirs.
            using (var connection = await LogInAsync(route, ct).ConfigureAwait(false))
            {
                if (connection == null) return;
                var ccc = await connection.ExecuteAsync("CCC", ct).ConfigureAwait(false);
                _result.CccReply = ccc.ToString();
                _result.CccAccepted = ccc.IsCompletion;
                // After an accepted CCC the server expects the TLS layer to go; closing the connection does that.
                if (!ccc.IsCompletion) await QuitAsync(connection, ct).ConfigureAwait(false);
            }
        }

        /// <summary>A session logged in over TLS (PBSZ 0 sent), or null with a note saying why not.</summary>
        private async Task<FtpControlConnection?> LogInAsync(TlsRoute route, CancellationToken ct)
        {
            var credential = _options.Credential!;
            var (connection, session) = await OpenTlsAsync(route, null, null, true, ct).ConfigureAwait(false);
            try
            {
                if (!MayLogIn(session, connection))
                {
                    Note($"The server's certificate is not trusted ({session.ValidationErrors ?? "it validates, but the pins for this host name another certificate"}, and no pin names it): the password was not sent, so PROT P, CCC and TLS session reuse were not checked. Pin the certificate or allow an untrusted certificate to check them.");
                    await QuitAsync(connection, ct).ConfigureAwait(false);
                    connection.Dispose();
                    return null;
                }
                await connection.ExecuteAsync("PBSZ 0", ct).ConfigureAwait(false);
                var user = await connection.ExecuteAsync("USER " + credential.UserName, ct).ConfigureAwait(false);
                var login = user.Code == 331 ? await connection.ExecuteAsync("PASS " + credential.Password, ct).ConfigureAwait(false) : user;
                _result.LoginSucceeded = login.Code == 230;
                if (login.Code == 230) return connection;
                Note($"The login over TLS failed ({login}): PROT P, CCC and TLS session reuse were not checked.");
                await QuitAsync(connection, ct).ConfigureAwait(false);
                connection.Dispose();
                return null;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>The password goes only to a server that proved who it is (or that the user vouched for). Pins,
        /// typed or stored in the trust store, decide as they do for Connect-SecureFtp (<see cref="CertificatePins"/>):
        /// they replace the CA check, so a pinned self-signed certificate is trusted and a CA-valid one that no pin
        /// names is not.</summary>
        private bool MayLogIn(ProbeTlsSession session, FtpControlConnection connection)
        {
            if (_options.AllowLoginWithUntrustedCertificate) return true;
            var certificate = session.Certificate;
            if (certificate == null) return false;
            var pins = CertificatePins.For(_options.PinnedFingerprints, new FileTrustStore(_options.TrustStorePath), _options.Host, _options.Port, connection.RemoteEndPoint.Address);
            return pins.Decide(certificate, () => session.ValidationErrors).Accepted;
        }

        /// <summary>LIST on a passive data connection, in clear or with a fresh (never resumed) TLS session;
        /// returns the reply that settles it (the first negative one, or the completion reply).</summary>
        private async Task<FtpReply> ListAsync(FtpControlConnection connection, bool tls, CancellationToken ct)
        {
            var (socket, refusal) = await OpenPassiveAsync(connection, ct).ConfigureAwait(false);
            if (socket == null) return refusal!;
            using var data = new NetworkStream(socket, ownsSocket: true);
            await connection.SendAsync("LIST", ct).ConfigureAwait(false);
            // The handshake starts at once: some servers send 150 only after it, others before.
            Task<ProbeTlsSession>? handshake = tls
                ? ProbeTls.HandshakeAsync(data, _options.Host, null, null, allowResume: false, _options.Timeout, ct)
                : null;
            var reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            if (!reply.IsPreliminary)
            {
                socket.Dispose();
                await Swallow(handshake).ConfigureAwait(false);
                return reply;
            }
            try
            {
                Stream reader = data;
                if (handshake != null) reader = (await handshake.ConfigureAwait(false)).Stream;
                var buffer = new byte[8192];
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(_options.Timeout);
                while (await reader.ReadAsync(buffer, 0, buffer.Length, cts.Token).ConfigureAwait(false) > 0) { }
            }
            catch (Exception e) when (e is FtpException or IOException or OperationCanceledException or ObjectDisposedException && !ct.IsCancellationRequested)
            {
                // The server dropped or refused the data connection; its control reply says why.
            }
            finally
            {
                socket.Dispose();
                if (handshake != null) await Swallow(handshake).ConfigureAwait(false);
            }
            return await connection.ReadReplyAsync(ct).ConfigureAwait(false);
        }

        private static async Task Swallow(Task<ProbeTlsSession>? handshake)
        {
            if (handshake == null) return;
            try { (await handshake.ConfigureAwait(false)).Dispose(); }
            catch (Exception) { /* the data connection was refused; the control reply tells */ }
        }

        /// <summary>EPSV, else PASV; connects to the control peer's address whatever PASV names (as curl and lftp do).</summary>
        private async Task<(Socket? Socket, FtpReply? Refusal)> OpenPassiveAsync(FtpControlConnection connection, CancellationToken ct)
        {
            int port;
            var epsv = await connection.ExecuteAsync("EPSV", ct).ConfigureAwait(false);
            var epsvMatch = Regex.Match(epsv.Message, @"\(([!-~])\1\1(\d{1,5})\1\)");
            if (epsv.Code == 229 && epsvMatch.Success) port = int.Parse(epsvMatch.Groups[2].Value, CultureInfo.InvariantCulture);
            else
            {
                var pasv = await connection.ExecuteAsync("PASV", ct).ConfigureAwait(false);
                var pasvMatch = Regex.Match(pasv.Message, @"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})");
                if (pasv.Code != 227 || !pasvMatch.Success) return (null, pasv);
                port = int.Parse(pasvMatch.Groups[5].Value, CultureInfo.InvariantCulture) * 256 + int.Parse(pasvMatch.Groups[6].Value, CultureInfo.InvariantCulture);
            }
            var socket = new Socket(connection.RemoteEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await SocketConnector.ConnectSocketAsync(socket, new IPEndPoint(connection.RemoteEndPoint.Address, port), _options.Timeout, ct).ConfigureAwait(false);
                return (socket, null);
            }
            catch (Exception e) when (e is SocketException or FtpException)
            {
                socket.Dispose();
                throw new FtpException(FtpErrorKind.Connection, "DataConnectFailed", $"The passive data connection to {connection.RemoteEndPoint.Address}:{port} failed: {e.Message}", inner: e);
            }
        }
    }
}
