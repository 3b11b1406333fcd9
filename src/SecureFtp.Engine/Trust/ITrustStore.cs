using System;
using System.Collections.Generic;

namespace SecureFtp.Trust
{
    /// <summary>A key or certificate the user trusts for a server (seed 000 s.5.2, s.5.7, s.6.2).</summary>
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

        /// <summary>The brand the server's key carries (seed 000 s.5.7), shown to the user.</summary>
        public string? Brand { get; set; }

        public DateTime AddedUtc { get; set; }

        /// <summary>"FirstUse", "OutOfBand" (Add-FtpTrustedKey), "Replicated" (s.6.2).</summary>
        public string Source { get; set; } = "";
    }

    /// <summary>The trust store. Implemented in this folder; consumed by X-SafeTP1, KEA, TLS pinning and the policy.</summary>
    public interface ITrustStore
    {
        string Location { get; }
        IReadOnlyList<TrustedKey> GetAll();

        /// <summary>Keys recorded for this host (by name or address) and port (or any port) and type.</summary>
        IReadOnlyList<TrustedKey> Find(string host, int port, string keyType);

        /// <summary>True when the store holds any key or pin for the host: such a host is never used in cleartext
        /// (seed 000 s.5.6, coerced fallback).</summary>
        bool HasAnyKeyFor(string host, int port);

        void Add(TrustedKey key);
        int Remove(string host, int port, string? keyType, string? fingerprint);
    }
}
