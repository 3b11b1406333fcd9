using System;

namespace SecureFtp.Trust
{
    /// <summary>What to do with a key seen under an address that has no key yet, when the same key is already
    /// trusted for another address (a multihomed server, the SafeTP paper, s.6.2).</summary>
    public enum KeyReplication
    {
        /// <summary>Accept it quietly, as SafeTP did: the key is the unit of trust, and the server has just proved
        /// it holds the private key, whatever address reached it. Recorded with source "Replicated".</summary>
        Automatic,
        /// <summary>Ask first, like a new key (s.5.7: "can be configured to not replicate keys without user approval").</summary>
        Ask,
    }

    /// <summary>The user's trust-first-time policy, as FtpClientOptions and the cmdlets carry it.</summary>
    public sealed class TrustPolicy
    {
        /// <summary>Accept an unknown server key without asking (-AcceptKey).</summary>
        public bool AcceptNewKey { get; set; }

        /// <summary>Refuse an unknown server key without asking (-ErrorOnUntrusted). Wins over <see cref="AcceptNewKey"/>.</summary>
        public bool ErrorOnUntrusted { get; set; }

        /// <summary>Asked about an unknown key with (query, caption), as PowerShell's ShouldContinue takes them;
        /// returns true to trust the key. Without it (and without <see cref="AcceptNewKey"/>) an unknown key is refused.</summary>
        public Func<string, string, bool>? ConfirmNewKey { get; set; }

        public KeyReplication Replication { get; set; } = KeyReplication.Automatic;

        public static TrustPolicy FromOptions(FtpClientOptions options) => new TrustPolicy
        {
            AcceptNewKey = options.AcceptNewKey,
            ErrorOnUntrusted = options.ErrorOnUntrusted,
            ConfirmNewKey = options.ConfirmNewKey,
        };
    }
}
