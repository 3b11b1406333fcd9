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
    /// <summary>Probes an FTP server's security without changing anything on it (Test-SecureFtpServer).
    /// <para>What it sends: FEAT; USER (never PASS) without AUTH; AUTH with every mechanism the client registry knows (TLS, SSL, X-SafeTP1, KEA-SKIPJACK), each
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

    /// <summary>One run of the probe. Its steps, one file each: ProbeRun.Cleartext (greeting, FEAT, USER without
    /// AUTH), .Mechanisms (which AUTH mechanisms), .Certificate (certificate and FEAT over TLS), .TlsVersions
    /// (versions and cipher suites), .LoginChecks (what needs a login), .Connections (the connections they use).</summary>
    internal sealed partial class ProbeRun
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
            TlsRoute? route = Offered(TlsNames.Tls.AuthName) ? TlsRoute.AuthTls : Offered(ProbedMechanism.ImplicitTls) ? TlsRoute.Implicit
                : Offered(TlsNames.Ssl.AuthName) ? TlsRoute.AuthSsl : (TlsRoute?)null;
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
    }
}
