using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace SecureFtp.Trust
{
    /// <summary>The one trust decision every mechanism makes about a server's key (X-SafeTP1's branded DSA key,
    /// a KEA certificate, a TLS certificate pin): the SafeTP paper, s.5.6, s.5.7 and s.6.2.
    /// <list type="number">
    /// <item>The key is trusted for the host (as typed) or for the address actually reached: "TrustStore".</item>
    /// <item>Another key is trusted there: refused as "ServerKeyChanged", both fingerprints shown. Never asked:
    /// a changed key is what a man in the middle looks like; the user removes the old key deliberately.</item>
    /// <item>Nothing is known there, but the same key is trusted for another host or address: a multihomed
    /// server; replicated per <see cref="TrustPolicy.Replication"/>: "Replicated".</item>
    /// <item>Nothing is known: trust first time per the policy ("FirstUse"), else "ServerKeyUntrusted".</item>
    /// </list>
    /// Accepted keys are recorded under the host as typed and under the address reached, so a later DNS answer
    /// that leads elsewhere meets the recorded key (s.5.7).</summary>
    public static class TrustVerifier
    {
        /// <summary>Decides about <paramref name="publicKey"/> presented by <paramref name="host"/>:<paramref name="port"/>.
        /// Returns the trust source (<see cref="TrustSources"/>) or throws an <see cref="FtpException"/> of kind Trust.</summary>
        /// <param name="store">The trust store that holds the keys already trusted, and receives a newly trusted one.</param>
        /// <param name="host">The server's name as the user gave it.</param>
        /// <param name="port">The server's port (0 = any port).</param>
        /// <param name="peerAddress">The address the connection reached; null when unknown.</param>
        /// <param name="keyType">The kind of key (X-SafeTP1, KEA, TLS), so keys of different kinds never match.</param>
        /// <param name="publicKey">The key the server presented, as encoded on the wire.</param>
        /// <param name="policy">What to do with a key never seen before: ask, accept, or refuse.</param>
        /// <param name="brand">The name the key is branded with (s.5.2), or a certificate subject; shown to the user.</param>
        public static string VerifyServerKey(ITrustStore store, string host, int port, IPAddress? peerAddress,
            string keyType, byte[] publicKey, string? brand, TrustPolicy policy)
        {
            if (publicKey == null || publicKey.Length == 0) throw new ArgumentException("The server presented no key.", nameof(publicKey));
            var fingerprint = KeyFingerprint.Compute(publicKey);
            return Decide(store, host, port, peerAddress, TrustKeyTypes.Normalize(keyType), publicKey, new[] { fingerprint }, TrustHost.CleanBrand(brand), policy);
        }

        /// <summary>The same decision for a TLS certificate: the key recorded is the certificate's
        /// SubjectPublicKeyInfo, and a pin added by fingerprint may also be the SHA-256 of the whole certificate.</summary>
        public static string VerifyCertificate(ITrustStore store, string host, int port, IPAddress? peerAddress,
            X509Certificate2 certificate, TrustPolicy policy)
        {
            var spki = CertificateKeys.SubjectPublicKeyInfo(certificate.RawData);
            var fingerprints = new[] { KeyFingerprint.Compute(spki), KeyFingerprint.Compute(certificate.RawData) };
            return Decide(store, host, port, peerAddress, TrustKeyTypes.Tls, spki, fingerprints, TrustHost.CleanBrand(certificate.Subject), policy);
        }

        /// <summary>True when the store pins this certificate (by key or certificate hash) for the host or address.
        /// Does not ask, record or throw: for the TLS validation callback.</summary>
        public static bool IsCertificatePinned(ITrustStore store, string host, int port, IPAddress? peerAddress, X509Certificate2 certificate)
            => CertificatePins.For(null, store, host, port, peerAddress).Match(certificate) != null;

        private static string Decide(ITrustStore store, string host, int port, IPAddress? peerAddress, string keyType,
            byte[] publicKey, string[] fingerprints, string? brand, TrustPolicy policy)
        {
            var names = Names(host, peerAddress);
            string where = port == 0 ? names[0] : $"{names[0]}:{port}";
            if (names.Count > 1) where += $" ({names[1]})";
            string shownBrand = brand != null ? $"\"{brand}\"" : "(no brand)";

            var known = KnownAt(store, names, port, keyType);
            if (known.Any(k => fingerprints.Contains(k.Fingerprint)))
                return TrustSources.TrustStore;

            if (known.Count > 0)
            {
                var old = string.Join("; ", known.Select(k => $"{k.Fingerprint} {(k.Brand != null ? "\"" + k.Brand + "\"" : "(no brand)")} for {k.Host}, {k.Source} {k.AddedUtc:yyyy-MM-dd}"));
                throw new FtpException(FtpErrorKind.Trust, "ServerKeyChanged",
                    $"The {keyType} key of {where} has CHANGED. Trusted: {old}. Presented now: {fingerprints[0]} {shownBrand}. " +
                    "Someone may be intercepting the connection; nothing was sent. If the server's key really changed, " +
                    $"remove the old key for {names[0]} from the trust store after checking the new fingerprint with its administrator.");
            }

            var elsewhere = store.GetAll().Where(k => k.KeyType == keyType && fingerprints.Contains(k.Fingerprint)).ToList();
            string source;
            if (elsewhere.Count > 0)
            {
                var hosts = string.Join(", ", elsewhere.Select(k => k.Port == 0 ? k.Host : $"{k.Host}:{k.Port}").Distinct());
                string seen = $"{where} presents the {keyType} key {fingerprints[0]} {shownBrand}, which you trust for {hosts}.";
                if (policy.Replication == KeyReplication.Ask)
                    Approve(policy, where, keyType, seen, "Trust it here too (one server with several addresses)?");
                source = TrustSources.Replicated;
            }
            else
            {
                Approve(policy, where, keyType, $"{where} presents a {keyType} key never seen before: {fingerprints[0]} {shownBrand}.",
                    "Trust it from now on? Compare the fingerprint with one obtained from the server's administrator.");
                source = TrustSources.FirstUse;
            }
            foreach (var name in names)
                store.Add(new TrustedKey
                {
                    Host = name, Port = port, KeyType = keyType, PublicKey = publicKey, Fingerprint = fingerprints[0],
                    Brand = brand, AddedUtc = DateTime.UtcNow, Source = source,
                });
            return source;
        }

        /// <summary>Returns when the user (or the policy) trusts the key; throws ServerKeyUntrusted otherwise.</summary>
        private static void Approve(TrustPolicy policy, string where, string keyType, string seen, string question)
        {
            FtpException Refused(string why) => new FtpException(FtpErrorKind.Trust, "ServerKeyUntrusted", $"{seen} It was refused: {why}. Nothing was sent.");
            if (policy.ErrorOnUntrusted) throw Refused("the trust policy refuses unknown keys (ErrorOnUntrusted)");
            if (policy.AcceptNewKey) return;
            if (policy.ConfirmNewKey == null)
                throw Refused("nobody could be asked, and the trust policy does not accept new keys unasked");
            if (!policy.ConfirmNewKey(seen + " " + question, $"Unknown {keyType} key for {where}"))
                throw Refused("you declined it");
        }

        private static List<string> Names(string host, IPAddress? peerAddress)
        {
            var names = new List<string> { TrustHost.Normalize(host) };
            if (peerAddress != null)
            {
                var address = TrustHost.Normalize(peerAddress);
                if (address != names[0]) names.Add(address);
            }
            return names;
        }

        private static List<TrustedKey> KnownAt(ITrustStore store, List<string> names, int port, string keyType)
            => names.SelectMany(n => store.Find(n, port, keyType)).ToList();
    }
}
