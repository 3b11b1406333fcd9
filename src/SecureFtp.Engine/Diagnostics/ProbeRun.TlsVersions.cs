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
    // Test-SecureFtpServer's probe: TLS versions and cipher suites.
    internal sealed partial class ProbeRun
    {
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
    }
}
