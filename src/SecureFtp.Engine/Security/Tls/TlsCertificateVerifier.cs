using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Trust;

namespace SecureFtp.Security.Tls
{
    /// <summary>Decides whether a server certificate is accepted, the same way for every TLS backend
    /// (SslStream or OpenSSL): when pins apply (typed with -CertificateThumbprint or stored in the trust store for
    /// the host; <see cref="CertificatePins"/> decides which), a matching pin and nothing else; otherwise the chain
    /// and the name the user typed; or anything when the user asked to skip the check. It runs before the first byte of FTP goes over the new channel, so a
    /// rejected server never sees USER or PASS.</summary>
    internal sealed class TlsCertificateVerifier
    {
        private readonly string _host;
        private readonly IPAddress? _hostAddress;
        private readonly CertificatePins _pins;
        private readonly bool _skip;
        private readonly Action<string>? _warn;
        private readonly X509Certificate2Collection? _trustAnchors;

        /// <param name="host">The server's name as the user gave it: the certificate must name it.</param>
        /// <param name="options">The client's options: pins, revocation and certificate policy.</param>
        /// <param name="warn">Where warnings go (an accepted certificate with problems); null to drop them.</param>
        /// <param name="trustAnchors">When set, the chain must end at one of these instead of the system roots
        /// (tests use a CA they made; production code passes null).</param>
        /// <param name="port">The server's port, for the trust store's pins (0 = pins for any port only match by host).</param>
        /// <param name="peerAddress">The address reached, whose stored pins count as the host's.</param>
        public TlsCertificateVerifier(string host, FtpClientOptions options, Action<string>? warn, X509Certificate2Collection? trustAnchors = null,
            int port = 0, IPAddress? peerAddress = null)
        {
            _host = host;
            _hostAddress = ParseAddressLiteral(host);
            // Read once, before the handshake: the decision is made inside the TLS callback, which must not do I/O
            // that can fail half-way. A store that cannot be read fails the connection here, with its own message.
            _pins = CertificatePins.For(options.PinnedFingerprints, options.SkipCertificateCheck ? null : new FileTrustStore(options.TrustStorePath),
                host, port, peerAddress);
            _skip = options.SkipCertificateCheck;
            _warn = warn;
            _trustAnchors = trustAnchors;
        }

        /// <summary>The fingerprint of the certificate accepted on the control connection.</summary>
        public string? AcceptedFingerprint { get; private set; }

        public string? TrustSource { get; private set; }

        /// <summary>Null when the host is a DNS name; the address when the user typed an IP literal.</summary>
        public IPAddress? HostAddress => _hostAddress;

        /// <summary>The reason of the last rejection, kept so a backend that only learns "handshake failed"
        /// can report why.</summary>
        public FtpException? LastRejection { get; private set; }

        /// <summary>Returns null when accepted, or the exception to throw.</summary>
        public FtpException? Check(X509Certificate2? certificate, IEnumerable<X509Certificate2> intermediates)
        {
            LastRejection = Evaluate(certificate, intermediates);
            return LastRejection;
        }

        /// <summary>A data connection must show the certificate accepted on the control connection (it resumes that
        /// session); anything else goes through the full check again.</summary>
        public FtpException? CheckDataConnection(X509Certificate2? certificate, IEnumerable<X509Certificate2> intermediates)
        {
            if (certificate != null && AcceptedFingerprint != null && Sha256Fingerprint(certificate) == AcceptedFingerprint)
                return LastRejection = null;
            return Check(certificate, intermediates);
        }

        private FtpException? Evaluate(X509Certificate2? certificate, IEnumerable<X509Certificate2> intermediates)
        {
            if (certificate == null)
                return Reject("the server presented no certificate", null);
            string fingerprint = Sha256Fingerprint(certificate);

            if (_skip)
            {
                _warn?.Invoke($"The certificate of {_host} was not checked (SkipCertificateCheck): subject '{certificate.Subject}', SHA-256 {fingerprint}. Anyone on the path could be reading this session.");
                return Accept(fingerprint, "Skipped");
            }

            var decision = _pins.Decide(certificate, () =>
            {
                var problems = new List<string>();
                string? chainProblem = CheckChain(certificate, intermediates);
                if (chainProblem != null) problems.Add("chain errors: " + chainProblem);
                if (!NameMatches(certificate))
                    problems.Add($"name mismatch: the certificate is not valid for '{_host}' (it names {DescribeNames(certificate)})");
                return problems.Count > 0 ? string.Join("; ", problems) : null;
            });
            return decision.Accepted
                ? Accept(fingerprint, decision.TrustSource!)
                : Reject(decision.Reason!, certificate, decision.IsPinMismatch && _pins.HasStoredPins);
        }

        private FtpException? Accept(string fingerprint, string trustSource)
        {
            AcceptedFingerprint = fingerprint;
            TrustSource = trustSource;
            return null;
        }

        private FtpException Reject(string reason, X509Certificate2? certificate, bool storedPinMismatch = false)
        {
            string fp = certificate != null ? Sha256Fingerprint(certificate) : "(none)";
            string subject = certificate != null ? $", subject '{certificate.Subject}'" : "";
            // What happened, not what to type: the cmdlet layer adds the hint for CertificateRejected (ErrorRecords).
            string pinNote = storedPinMismatch
                ? " The trust store pins another certificate for this host: someone may be intercepting the connection, or the server's certificate changed (check the new fingerprint with its administrator before replacing the stored pin)."
                : "";
            return new FtpException(FtpErrorKind.Security, "CertificateRejected",
                $"The TLS certificate of {_host} was rejected: {reason}{subject}, SHA-256 fingerprint {fp}. Nothing was sent to the server." + pinNote);
        }

#pragma warning disable CA1822 // reads the trust anchors in the net8.0 build only (#if NET)
        private string? CheckChain(X509Certificate2 certificate, IEnumerable<X509Certificate2> intermediates)
#pragma warning restore CA1822
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // as SslStream's default: no network fetches
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
            // The certificate must be meant for a TLS server (extended key usage serverAuth, when it has one).
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
            foreach (var c in intermediates)
                if (!c.RawData.AsSpan().SequenceEqual(certificate.RawData)) chain.ChainPolicy.ExtraStore.Add(c);
#if NET
            if (_trustAnchors != null)
            {
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(_trustAnchors);
            }
#endif
            bool ok = chain.Build(certificate);
            if (ok) return null;
            var statuses = chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError)
                .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : $"{s.Status} ({s.StatusInformation.Trim()})")
                .Distinct().ToList();
            return statuses.Count > 0 ? string.Join(", ", statuses) : "the chain could not be built";
        }

        private bool NameMatches(X509Certificate2 certificate)
        {
#if NET
            // Handles DNS SANs with a left-most wildcard, IP address SANs for IP literals, and the subject CN
            // only when there is no SAN, which is what SslStream checks.
            return certificate.MatchesHostname(_hostAddress?.ToString() ?? _host, allowWildcards: true, allowCommonName: true);
#else
            return SubjectAltNames.Matches(certificate, _host, _hostAddress);
#endif
        }

        private static string DescribeNames(X509Certificate2 certificate)
        {
            var names = SubjectAltNames.Read(certificate);
            if (names.Count == 0) return $"no subject alternative names, subject '{certificate.Subject}'";
            return string.Join(", ", names);
        }

        internal static IPAddress? ParseAddressLiteral(string host)
        {
            string h = host.Trim();
            if (h.StartsWith("[", StringComparison.Ordinal) && h.EndsWith("]", StringComparison.Ordinal)) h = h.Substring(1, h.Length - 2);
            // Only a dotted quad or an IPv6 literal is an address; IPAddress.TryParse would also take "10" or "1.2".
            if (!IPAddress.TryParse(h, out var address)) return null;
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && h.Split('.').Length != 4) return null;
            return address;
        }

        // ---- fingerprints and pins ----

        public static string Sha256Fingerprint(X509Certificate2 certificate) => ColonHex(Hash(SHA256.Create(), certificate.RawData));

        internal static byte[] SubjectPublicKeyInfoSha256(X509Certificate2 certificate)
        {
            // The DER SubjectPublicKeyInfo is what HPKP and curl's --pinnedpubkey hash. BouncyCastle parses it on
            // both target frameworks (ExportSubjectPublicKeyInfo is net6+ and not on every key type).
            var bc = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate.RawData);
            var spki = Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(bc.GetPublicKey());
            return Hash(SHA256.Create(), spki.GetDerEncoded());
        }

        internal static bool PinMatches(string pin, X509Certificate2 certificate) => CertificatePins.Matches(pin, certificate);

        private static byte[] Hash(HashAlgorithm algorithm, byte[] data)
        {
            using (algorithm) return algorithm.ComputeHash(data);
        }

        internal static string ColonHex(byte[] bytes) => BitConverter.ToString(bytes).Replace('-', ':');
    }
}
