using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SecureFtp.Trust
{
    /// <summary>The one place that decides which TLS certificate pins apply to a connection, and whether a certificate
    /// satisfies them. Every TLS client of the module asks here: the client session (TlsCertificateVerifier), the
    /// Test-SecureFtpServer probe before it sends a password, and the client side of a future proxy.
    /// <para>A pin is the user's own statement of which certificate is right, whether typed for this connection
    /// (-CertificateThumbprint) or stored for the host (Add-FtpTrustedKey -Fingerprint / -Path, key type TLS). Either
    /// kind replaces the CA decision for that host, in both directions: a certificate that matches a pin is accepted
    /// although no CA vouches for it (a self-signed server), and one that matches none is refused although a CA
    /// vouches for it (a certificate issued to someone else by a CA that should not have). Typed and stored pins add
    /// up: matching any of them is enough.</para>
    /// <para>Stored pins count for the host as typed and for the address actually reached (as the key trust of
    /// <see cref="TrustVerifier"/>), on the port or on any port (port 0).</para></summary>
    public sealed class CertificatePins
    {
        private readonly IReadOnlyList<string> _typed;
        private readonly IReadOnlyList<TrustedKey> _stored;

        private CertificatePins(IReadOnlyList<string> typed, IReadOnlyList<TrustedKey> stored, string where)
        {
            _typed = typed;
            _stored = stored;
            Where = where;
        }

        /// <summary>The pins for <paramref name="host"/>:<paramref name="port"/> reached at <paramref name="peerAddress"/>:
        /// <paramref name="typedPins"/> (any form <see cref="Matches(string, X509Certificate2)"/> takes) and the TLS
        /// entries <paramref name="store"/> holds there. A store that cannot be read is an error, not "no pins": an
        /// unreadable pin must not silently become a CA decision.</summary>
        public static CertificatePins For(IEnumerable<string>? typedPins, ITrustStore? store, string host, int port, IPAddress? peerAddress)
        {
            var typed = (typedPins ?? Array.Empty<string>()).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim()).ToList();
            var names = new List<string> { TrustHost.Normalize(host) };
            if (peerAddress != null)
            {
                var address = TrustHost.Normalize(peerAddress.IsIPv4MappedToIPv6 ? peerAddress.MapToIPv4() : peerAddress);
                if (!names.Contains(address)) names.Add(address);
            }
            var stored = store == null
                ? new List<TrustedKey>()
                : names.SelectMany(n => store.Find(n, port, TrustKeyTypes.Tls)).ToList();
            string where = names.Count > 1 ? $"{names[0]} ({names[1]})" : names[0];
            return new CertificatePins(typed, stored, where);
        }

        /// <summary>No pin applies: the chain and the name decide.</summary>
        public bool IsEmpty => _typed.Count == 0 && _stored.Count == 0;

        /// <summary>True when pins apply and come (also) from the trust store.</summary>
        public bool HasStoredPins => _stored.Count > 0;

        /// <summary>The host (and address) the pins were looked up for, for messages.</summary>
        public string Where { get; }

        /// <summary>The stored fingerprints, for messages.</summary>
        public IEnumerable<string> StoredFingerprints => _stored.Select(k => k.Fingerprint).Distinct();

        /// <summary>How <paramref name="certificate"/> is trusted by pin: "Pinned" (a typed pin), "TrustStore" (a stored
        /// one), or null when it matches none.</summary>
        public string? Match(X509Certificate2 certificate)
        {
            if (certificate == null) return null;
            if (_typed.Any(p => Matches(p, certificate))) return "Pinned";
            if (_stored.Count > 0)
            {
                var fingerprints = new[]
                {
                    KeyFingerprint.Compute(CertificateKeys.SubjectPublicKeyInfo(certificate.RawData)),
                    KeyFingerprint.Compute(certificate.RawData),
                };
                if (_stored.Any(k => fingerprints.Contains(k.Fingerprint))) return TrustSources.TrustStore;
            }
            return null;
        }

        /// <summary>The whole decision about a server certificate once the user has not asked to skip the check: when
        /// pins apply, they alone decide; otherwise <paramref name="caProblems"/> does (the chain and the name as the
        /// caller checks them; it returns null when they hold, else what is wrong). It is only called when no pin
        /// applies, so a pinned host never depends on what a CA says.</summary>
        public CertificateDecision Decide(X509Certificate2? certificate, Func<string?> caProblems)
        {
            if (certificate == null) return CertificateDecision.Refuse("the server presented no certificate", pinMismatch: false);
            if (!IsEmpty)
            {
                var source = Match(certificate);
                return source != null ? CertificateDecision.Accept(source) : CertificateDecision.Refuse(DescribeMismatch(), pinMismatch: true);
            }
            var problems = caProblems();
            return problems == null ? CertificateDecision.Accept("Chain") : CertificateDecision.Refuse(problems, pinMismatch: false);
        }

        /// <summary>Why a certificate that matched nothing was refused, naming where the pins came from.</summary>
        public string DescribeMismatch()
        {
            var parts = new List<string>();
            if (_typed.Count > 0) parts.Add($"{_typed.Count} pinned fingerprint{(_typed.Count == 1 ? "" : "s")} given for this connection");
            if (_stored.Count > 0) parts.Add($"the trust store's pin{(_stored.Count == 1 ? "" : "s")} for {Where} ({string.Join(", ", StoredFingerprints)})");
            return "pin mismatch: the certificate matches none of " + string.Join(" nor ", parts) +
                   " (a pin replaces the CA check, so a CA-valid certificate that is not pinned is refused too)";
        }

        /// <summary>True when one pin <paramref name="pin"/> names <paramref name="certificate"/>: the SHA-256 (or SHA-1)
        /// of the certificate, or the SHA-256 of its SubjectPublicKeyInfo, as hex (colons, spaces, dashes, a
        /// "SHA256:" prefix allowed) or base64, with curl's "sha256//" prefix allowed.</summary>
        public static bool Matches(string pin, X509Certificate2 certificate)
        {
            string p = pin.Trim();
            if (p.StartsWith("sha256//", StringComparison.OrdinalIgnoreCase)) p = p.Substring(8); // curl's pinnedpubkey form
            else if (p.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase)) p = p.Substring(7);
            byte[]? value = TryParseHex(p);
            if (value != null)
            {
                if (value.Length == 32)
                    return FixedEquals(value, Sha256(certificate.RawData))
                        || FixedEquals(value, Sha256(CertificateKeys.SubjectPublicKeyInfo(certificate.RawData)));
                if (value.Length == 20)
                {
#pragma warning disable CA5350 // a pin given as a SHA-1 certificate thumbprint (what Windows shows) is compared, not trusted for anything else
                    using var sha1 = SHA1.Create();
#pragma warning restore CA5350
                    return FixedEquals(value, sha1.ComputeHash(certificate.RawData));
                }
                return false;
            }
            byte[]? b64 = TryParseBase64(p);
            return b64 != null && b64.Length == 32 && FixedEquals(b64, Sha256(CertificateKeys.SubjectPublicKeyInfo(certificate.RawData)));
        }

        private static byte[] Sha256(byte[] data)
        {
            using var sha = SHA256.Create();
            return sha.ComputeHash(data);
        }

        private static bool FixedEquals(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < a.Length; i++) diff |= a[i] ^ b[i];
            return diff == 0;
        }

        private static byte[]? TryParseHex(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (c == ':' || c == ' ' || c == '-') continue;
                if (!Uri.IsHexDigit(c)) return null;
                sb.Append(c);
            }
            if (sb.Length == 0 || sb.Length % 2 != 0) return null;
            var bytes = new byte[sb.Length / 2];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = Convert.ToByte(sb.ToString(i * 2, 2), 16);
            return bytes;
        }

        private static byte[]? TryParseBase64(string s)
        {
            try { return Convert.FromBase64String(s); }
            catch (FormatException) { return null; }
        }
    }

    /// <summary>What <see cref="CertificatePins.Decide"/> concluded.</summary>
    public sealed class CertificateDecision
    {
        private CertificateDecision(bool accepted, string? source, string? reason, bool pinMismatch)
        {
            Accepted = accepted; TrustSource = source; Reason = reason; IsPinMismatch = pinMismatch;
        }

        public bool Accepted { get; }

        /// <summary>"Pinned" (a pin typed for the connection), "TrustStore" (a stored pin) or "Chain" (a CA and the name).</summary>
        public string? TrustSource { get; }

        /// <summary>Why it was refused.</summary>
        public string? Reason { get; }

        /// <summary>Refused because pins apply and none names the certificate (what an interception looks like).</summary>
        public bool IsPinMismatch { get; }

        internal static CertificateDecision Accept(string source) => new CertificateDecision(true, source, null, false);
        internal static CertificateDecision Refuse(string reason, bool pinMismatch) => new CertificateDecision(false, null, reason, pinMismatch);
    }
}
