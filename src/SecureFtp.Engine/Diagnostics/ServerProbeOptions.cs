using System;
using System.Collections.Generic;
using System.Net;

namespace SecureFtp.Diagnostics
{
    /// <summary>What <see cref="ServerProbe"/> probes and how. Nothing here changes the server.</summary>
    public sealed class ServerProbeOptions
    {
        public string Host { get; set; } = "";

        /// <summary>The port of the plain/explicit service.</summary>
        public int Port { get; set; } = 21;

        /// <summary>Where implicit TLS is tried; 0 skips it. Default 990.</summary>
        public int ImplicitTlsPort { get; set; } = 990;

        /// <summary>Needed for the checks that require a login (PROT P required, CCC, TLS session reuse on data
        /// connections). The password is only ever sent inside TLS, and only to a server whose certificate
        /// validates, is pinned here or in the trust store, or when <see cref="AllowLoginWithUntrustedCertificate"/>.</summary>
        public NetworkCredential? Credential { get; set; }

        /// <summary>The user name sent (USER only, never a password) to see whether a cleartext login is refused.
        /// Defaults to the credential's user name, else "secureftp-probe".</summary>
        public string? CleartextProbeUser { get; set; }

        /// <summary>Certificate fingerprints that make the server trusted for the login checks: SHA-256 or SHA-1 of the
        /// certificate or SHA-256 of its public key, hex with or without colons.</summary>
        public IList<string> PinnedFingerprints { get; set; } = new List<string>();

        /// <summary>Trust store folder whose TLS pins also count; null = $SECUREFTP_TRUST_STORE or the profile default.</summary>
        public string? TrustStorePath { get; set; }

        /// <summary>Log in even when the certificate neither validates nor is pinned (a lab server).</summary>
        public bool AllowLoginWithUntrustedCertificate { get; set; }

        /// <summary>Try each cipher suite on its own, per accepted TLS version, where the platform lets the client
        /// choose its suites (Linux, macOS). One connection per suite. Otherwise only the negotiated suite is known.</summary>
        public bool EnumerateCipherSuites { get; set; } = true;

        /// <summary>Every wait: connect, reply, handshake.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

        public Action<string>? Verbose { get; set; }

        /// <summary>Every control line, credentials redacted. True = sent by the probe.</summary>
        public Action<bool, string>? Trace { get; set; }
    }
}
