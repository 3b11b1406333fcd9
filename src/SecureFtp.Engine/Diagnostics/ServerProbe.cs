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
using SecureFtp.Trust;

namespace SecureFtp.Diagnostics
{
    /// <summary>Probes an FTP server's security without changing anything on it (Test-SecureFtpServer).
    /// <para>What it sends: FEAT; USER (never PASS) without AUTH; AUTH TLS / SSL / X-SafeTP1 / KEA-SKIPJACK, each
    /// on its own connection, closed right after the reply (an ADAT mechanism's 334 is answered with QUIT);
    /// TLS handshakes per version and per cipher suite; with a credential, and only inside TLS to a server whose
    /// certificate validates or is pinned: PBSZ 0, USER/PASS, PROT C then LIST, PROT P then LIST on a data
    /// connection with a fresh TLS session, CCC. LIST only reads; nothing is uploaded, renamed or deleted.</para></summary>
    public static class ServerProbe
    {
        public static async Task<ServerProbeResult> ProbeAsync(ServerProbeOptions options, CancellationToken ct = default)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            if (string.IsNullOrWhiteSpace(options.Host)) throw new ArgumentException("The host to probe is missing.", nameof(options));
            if (options.Port <= 0 || options.Port > 65535) throw new ArgumentOutOfRangeException(nameof(options), $"Port {options.Port} is not a TCP port.");
            var result = new ServerProbeResult { Host = options.Host, Port = options.Port, ProbedUtc = DateTime.UtcNow };
            await new ProbeRun(options, result).RunAsync(ct).ConfigureAwait(false);
            return result;
        }
    }

    internal sealed class ProbeRun
    {
        private enum TlsRoute { AuthTls, AuthSsl, Implicit }

        private static readonly Encoding Utf8 = new UTF8Encoding(false);
        private readonly ServerProbeOptions _options;
        private readonly ServerProbeResult _result;

        public ProbeRun(ServerProbeOptions options, ServerProbeResult result)
        {
            _options = options;
            _result = result;
        }

        private void Note(string text)
        {
            _result.Notes.Add(text);
            _options.Verbose?.Invoke(text);
        }

        public async Task RunAsync(CancellationToken ct)
        {
            await CleartextAsync(ct).ConfigureAwait(false);
            await MechanismsAsync(ct).ConfigureAwait(false);
            TlsRoute? route = Offered("TLS") ? TlsRoute.AuthTls : Offered("Implicit TLS") ? TlsRoute.Implicit : Offered("SSL") ? TlsRoute.AuthSsl : (TlsRoute?)null;
            if (route == null)
            {
                Note("The server offers no TLS (AUTH TLS, AUTH SSL or implicit TLS): no TLS version, certificate or login checks were made.");
                return;
            }
            await CertificateAsync(route.Value, ct).ConfigureAwait(false);
            await VersionsAsync(route.Value, ct).ConfigureAwait(false);
            if (_options.Credential == null)
                Note("No credential was given: whether PROT P is required, whether CCC is accepted and whether data connections must resume the TLS session were not checked.");
            else
                await LoginChecksAsync(route.Value, ct).ConfigureAwait(false);
        }

        private bool Offered(string name) => _result.Mechanisms.Any(m => m.Name == name && m.Offered);

        // ---- cleartext: greeting, FEAT, USER without AUTH ----

        private async Task CleartextAsync(CancellationToken ct)
        {
            using var connection = await OpenPlainAsync(ct).ConfigureAwait(false);
            var feat = await connection.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
            if (feat.Code == 211) _result.Features = FeatureLines(feat);
            // USER only: a password is never sent in cleartext, not even a made-up one (it could lock an account).
            var user = _options.CleartextProbeUser ?? _options.Credential?.UserName;
            if (string.IsNullOrEmpty(user)) user = "secureftp-probe";
            var reply = await connection.ExecuteAsync("USER " + user, ct).ConfigureAwait(false);
            _result.CleartextLoginReply = reply.ToString();
            _result.CleartextLoginRefused = reply.Code is 331 or 332 or 230 ? false : reply.Code / 100 is 4 or 5 ? true : (bool?)null;
            if (_result.CleartextLoginRefused == null) Note($"USER without AUTH got an unexpected reply: {reply}.");
            await QuitAsync(connection, ct).ConfigureAwait(false);
        }

        private static List<string> FeatureLines(FtpReply feat)
            => feat.Lines.Skip(1).Take(Math.Max(0, feat.Lines.Count - 2)).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

        // ---- which mechanisms ----

        private async Task MechanismsAsync(CancellationToken ct)
        {
            foreach (var (name, argument) in new[] { ("TLS", "TLS"), ("SSL", "SSL"), ("X-SafeTP1", "X-SafeTP1"), ("KEA-SKIPJACK", "KEA-SKIPJACK") })
            {
                using var connection = await OpenPlainAsync(ct).ConfigureAwait(false);
                var reply = await connection.ExecuteAsync("AUTH " + argument, ct).ConfigureAwait(false);
                bool offered = name switch
                {
                    "TLS" => reply.Code == 234,
                    "SSL" => reply.Code is 234 or 334,   // seed 001: the old AUTH SSL reply is 334
                    _ => reply.Code is 334 or 235,       // RFC 2228: 334 = send ADAT
                };
                _result.Mechanisms.Add(new ProbedMechanism { Name = name, Offered = offered, Port = _options.Port, Reply = reply.ToString() });
                // After 234 the server waits for a ClientHello: closing is the clean way out. An ADAT mechanism
                // waits for ADAT; QUIT ends the exchange before any key material is sent.
                if (!(offered && name is "TLS" or "SSL")) await QuitAsync(connection, ct).ConfigureAwait(false);
            }

            if (_options.ImplicitTlsPort <= 0) return;
            var implicitTls = new ProbedMechanism { Name = "Implicit TLS", Port = _options.ImplicitTlsPort };
            try
            {
                var (connection, session) = await OpenTlsAsync(TlsRoute.Implicit, null, null, true, ct).ConfigureAwait(false);
                using (connection)
                using (session)
                {
                    implicitTls.Offered = true;
                    implicitTls.Reply = "TLS handshake completed, then a 220 greeting";
                    await QuitAsync(connection, ct).ConfigureAwait(false);
                }
            }
            catch (FtpException e) when (e.Kind is FtpErrorKind.Connection or FtpErrorKind.Security or FtpErrorKind.Timeout or FtpErrorKind.Protocol)
            {
                implicitTls.Reply = e.Message;
            }
            _result.Mechanisms.Add(implicitTls);
        }

        // ---- certificate and FEAT over TLS ----

        private async Task CertificateAsync(TlsRoute route, CancellationToken ct)
        {
            var (connection, session) = await OpenTlsAsync(route, null, null, true, ct).ConfigureAwait(false);
            using (connection)
            using (session)
            {
                if (session.Certificate != null)
                {
                    var certificate = session.Certificate;
                    _result.Certificate = new ProbedCertificate
                    {
                        Subject = certificate.Subject,
                        Issuer = certificate.Issuer,
                        NotBefore = certificate.NotBefore.ToUniversalTime(),
                        NotAfter = certificate.NotAfter.ToUniversalTime(),
                        Sha256Fingerprint = KeyFingerprint.Compute(certificate.RawData),
                        PublicKeySha256Fingerprint = KeyFingerprint.Compute(CertificateKeys.SubjectPublicKeyInfo(certificate.RawData)),
                        IsValid = session.ValidationErrors == null,
                        ValidationErrors = session.ValidationErrors,
                    };
                }
                var feat = await connection.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
                if (feat.Code == 211) _result.FeaturesAfterTls = FeatureLines(feat);
                await QuitAsync(connection, ct).ConfigureAwait(false);
            }
        }

        // ---- TLS versions and cipher suites ----

        private async Task VersionsAsync(TlsRoute route, CancellationToken ct)
        {
            bool enumerate = _options.EnumerateCipherSuites && ProbeTls.CanChooseCipherSuites;
            if (_options.EnumerateCipherSuites && !enumerate)
                Note("This platform does not let a client choose its cipher suites: only the suite negotiated per TLS version is reported.");
            foreach (var (name, protocol) in ProbeTls.Versions)
            {
                var probed = new ProbedTlsVersion { Version = name };
                _result.TlsVersions.Add(probed);
                // OpenSSL 3 at its default security level cannot speak TLS 1.0/1.1 at all; a refusal by this
                // machine must not be reported as a refusal by the server, so those go through BouncyCastle.
                bool? local = await ProbeTls.LocallySupportedAsync(protocol).ConfigureAwait(false);
                bool legacy = LegacyTlsHandshake.Handles(name) && local != true;
                Func<IEnumerable<string>?, Task<string>> handshake = legacy
                    ? suites => LegacyHandshakeOnlyAsync(route, name, suites, ct)
                    : suites => HandshakeOnlyAsync(route, protocol, suites, ct);
                if (legacy) probed.Detail = local == false
                    ? $"Tested with BouncyCastle's TLS client: this machine's TLS library cannot speak {name}."
                    : $"Tested with BouncyCastle's TLS client: this runtime cannot check that its own TLS library speaks {name}.";
                try
                {
                    probed.NegotiatedCipherSuite = await handshake(null).ConfigureAwait(false);
                    probed.Accepted = true;
                }
                catch (FtpException e) when (e.Kind is FtpErrorKind.Security or FtpErrorKind.Connection or FtpErrorKind.Protocol or FtpErrorKind.Timeout)
                {
                    // A failure is the server's refusal only when this client is known to speak the version.
                    if (legacy || local == true) probed.Accepted = false;
                    else Note($"{name} could not be tested: this runtime cannot check that it speaks {name} itself ({e.Message}).");
                    probed.Detail = (probed.Detail != null ? probed.Detail + " " : "") + e.Message;
                }
                if (probed.Accepted != true || !(enumerate || legacy && _options.EnumerateCipherSuites)) continue;
                foreach (var suite in ProbeTls.CandidateSuites(name))
                {
                    try
                    {
                        await handshake(new[] { suite }).ConfigureAwait(false);
                        probed.CipherSuites.Add(suite);
                    }
                    catch (FtpException e) when (e.Kind is FtpErrorKind.Security or FtpErrorKind.Connection or FtpErrorKind.Protocol or FtpErrorKind.Timeout or FtpErrorKind.NotSupported)
                    {
                        // Refused by the server, or a suite this machine's library does not have: not listed either way.
                    }
                }
            }
        }

        private async Task<string> LegacyHandshakeOnlyAsync(TlsRoute route, string version, IEnumerable<string>? suites, CancellationToken ct)
        {
            using var connection = await OpenBeforeHandshakeAsync(route, ct).ConfigureAwait(false);
            return await LegacyTlsHandshake.HandshakeAsync(connection.Transport, version, suites, _options.Timeout, ct).ConfigureAwait(false);
        }

        /// <summary>One connection that completes a handshake of exactly <paramref name="protocol"/>; returns the suite.</summary>
        private async Task<string> HandshakeOnlyAsync(TlsRoute route, SslProtocols protocol, IEnumerable<string>? suites, CancellationToken ct)
        {
            var (connection, session) = await OpenTlsAsync(route, protocol, suites, true, ct).ConfigureAwait(false);
            using (connection)
            using (session)
            {
                if (session.Stream.SslProtocol != protocol)
                    throw new FtpException(FtpErrorKind.Security, "TlsVersionMismatch", $"Asked for {ProbeTls.VersionName(protocol)}, the handshake gave {session.Protocol}.");
                var suite = session.CipherSuite;
                await QuitAsync(connection, ct).ConfigureAwait(false);
                return suite;
            }
        }

        // ---- checks that need a login ----

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
            if (epsv.Code == 229 && epsvMatch.Success) port = int.Parse(epsvMatch.Groups[2].Value);
            else
            {
                var pasv = await connection.ExecuteAsync("PASV", ct).ConfigureAwait(false);
                var pasvMatch = Regex.Match(pasv.Message, @"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})");
                if (pasv.Code != 227 || !pasvMatch.Success) return (null, pasv);
                port = int.Parse(pasvMatch.Groups[5].Value) * 256 + int.Parse(pasvMatch.Groups[6].Value);
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

        // ---- connections ----

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
