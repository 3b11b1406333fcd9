namespace SecureFtp.Security
{
    /// <summary>What was agreed with the peer: shown by the session view and returned by Test-SecureFtpServer.</summary>
    public sealed class SecurityDetails
    {
        /// <summary>The mechanism name as the AUTH argument, e.g. "TLS", "SSL", "X-SafeTP1", "KEA-SKIPJACK";
        /// "Implicit TLS" for implicit FTPS; "None" for cleartext.</summary>
        public string Mechanism { get; set; } = "None";

        /// <summary>e.g. "Tls13", or the RFC 2228 mechanism's cipher description.</summary>
        public string? ProtocolVersion { get; set; }

        /// <summary>e.g. "TLS_AES_256_GCM_SHA384", or "3DES-EDE-CBC/HMAC-SHA1".</summary>
        public string? Cipher { get; set; }

        /// <summary>SHA-256 fingerprint of the peer's certificate or key, hex with colons.</summary>
        public string? PeerFingerprint { get; set; }

        /// <summary>Certificate subject, or the brand of a SafeTP key.</summary>
        public string? PeerName { get; set; }

        /// <summary>How the peer was trusted: "Chain", "Pinned", "TrustStore", "FirstUse", "Skipped".</summary>
        public string? TrustSource { get; set; }

        public override string ToString() => $"{Mechanism} {ProtocolVersion} {Cipher}".Trim();
    }
}
