using System;
using System.Collections.Generic;
using System.Globalization;

namespace SecureFtp.Trust
{
    /// <summary>A key or certificate the user trusts for a server (the SafeTP paper, s.5.2, s.5.7, s.6.2).</summary>
    public sealed class TrustedKey
    {
        /// <summary>Host name or address as the user typed it, lower-case; the store also matches addresses.</summary>
        public string Host { get; set; } = "";

        /// <summary>0 = any port.</summary>
        public int Port { get; set; }

        /// <summary>"X-SafeTP1" (DSA server key), "KEA" (KEA certificate) or "TLS" (certificate pin).</summary>
        public string KeyType { get; set; } = "";

        /// <summary>The encoded public key (SubjectPublicKeyInfo DER, or the mechanism's own encoding).</summary>
        public byte[] PublicKey { get; set; } = Array.Empty<byte>();

        /// <summary>SHA-256 of <see cref="PublicKey"/>, upper-case hex with colons.</summary>
        public string Fingerprint { get; set; } = "";

        /// <summary>The brand the server's key carries (the SafeTP paper, s.5.7), shown to the user.</summary>
        public string? Brand { get; set; }

        public DateTime AddedUtc { get; set; }

        /// <summary>"FirstUse", "OutOfBand" (Add-FtpTrustedKey), "Replicated" (s.6.2).</summary>
        public string Source { get; set; } = "";

        /// <summary>A key record for <paramref name="publicKey"/>, fingerprint computed, host normalised.</summary>
        public static TrustedKey FromPublicKey(string host, int port, string keyType, byte[] publicKey, string? brand, string source)
            => new TrustedKey
            {
                Host = TrustHost.Normalize(host),
                Port = port,
                KeyType = keyType,
                PublicKey = publicKey,
                Fingerprint = KeyFingerprint.Compute(publicKey),
                Brand = TrustHost.CleanBrand(brand),
                AddedUtc = DateTime.UtcNow,
                Source = source,
            };

        /// <summary>A key record known only by its fingerprint (given out of band, e.g. read over the phone).
        /// It matches any key whose SHA-256 is this fingerprint; a TLS pin may also be the certificate's SHA-256.</summary>
        public static TrustedKey FromFingerprint(string host, int port, string keyType, string fingerprint, string? brand)
            => new TrustedKey
            {
                Host = TrustHost.Normalize(host),
                Port = port,
                KeyType = keyType,
                Fingerprint = KeyFingerprint.Normalize(fingerprint),
                Brand = TrustHost.CleanBrand(brand),
                AddedUtc = DateTime.UtcNow,
                Source = TrustSources.OutOfBand,
            };

        public override string ToString() => $"{Host}:{(Port == 0 ? "*" : Port.ToString(CultureInfo.InvariantCulture))} {KeyType} {Fingerprint}{(Brand != null ? " \"" + Brand + "\"" : "")}";
    }

    /// <summary>The values of <see cref="TrustedKey.KeyType"/>.</summary>
    public static class TrustKeyTypes
    {
        /// <summary>An X-SafeTP1 server's branded DSA key (the SafeTP paper, s.5.2).</summary>
        public const string SafeTp = "X-SafeTP1";
        /// <summary>A KEA-SKIPJACK server's KEA certificate (RFC 2773).</summary>
        public const string Kea = "KEA";
        /// <summary>A TLS certificate pin: SHA-256 of the SubjectPublicKeyInfo, or of the whole certificate.</summary>
        public const string Tls = "TLS";

        public static readonly IReadOnlyList<string> All = new[] { SafeTp, Kea, Tls };

        /// <summary>The canonical spelling of a key type a user typed ("tls", "x-safetp1", "SafeTP", "kea").</summary>
        public static string Normalize(string keyType)
        {
            switch ((keyType ?? "").Trim().ToUpperInvariant())
            {
                case "X-SAFETP1": case "SAFETP": case "SAFETP1": return SafeTp;
                case "KEA": case "KEA-SKIPJACK": case "KEASKIPJACK": return Kea;
                case "TLS": case "SSL": return Tls;
                default:
                    throw new FtpException(FtpErrorKind.Trust, "InvalidKeyType", $"'{keyType}' is not a trust store key type; use {string.Join(", ", All)}.");
            }
        }
    }

    /// <summary>How a server's key came to be trusted: the values of <see cref="TrustedKey.Source"/> and of
    /// <see cref="Security.SecurityDetails.TrustSource"/>.</summary>
    public static class TrustSources
    {
        /// <summary>The key was already in the trust store for this host (or its address).</summary>
        public const string TrustStore = "TrustStore";
        /// <summary>Seen for the first time and accepted (by the user, or by -AcceptKey).</summary>
        public const string FirstUse = "FirstUse";
        /// <summary>Added by the user from a file or fingerprint (Add-FtpTrustedKey).</summary>
        public const string OutOfBand = "OutOfBand";
        /// <summary>A key already trusted for another address of a multihomed server (the SafeTP paper, s.6.2).</summary>
        public const string Replicated = "Replicated";
    }

    /// <summary>The trust store. Implemented in this folder; consumed by X-SafeTP1, KEA, TLS pinning and the policy.</summary>
    public interface ITrustStore
    {
        string Location { get; }
        IReadOnlyList<TrustedKey> GetAll();

        /// <summary>Keys recorded for this host (by name or address) and port (or any port) and type.</summary>
        IReadOnlyList<TrustedKey> Find(string host, int port, string keyType);

        /// <summary>True when the store holds any key or pin for the host: such a host is never used in cleartext
        /// (the SafeTP paper, s.5.6, coerced fallback).</summary>
        bool HasAnyKeyFor(string host, int port);

        void Add(TrustedKey key);
        int Remove(string host, int port, string? keyType, string? fingerprint);
    }
}
