using System;
using System.Collections.Generic;
using System.Linq;
using SecureFtp.Security.Tls;

namespace SecureFtp.Diagnostics
{
    /// <summary>One security mechanism and whether the server offered it.</summary>
    public sealed class ProbedMechanism
    {
        /// <summary>The name <see cref="Name"/> has for TLS from the first byte (no AUTH name exists for it).</summary>
        public const string ImplicitTls = "Implicit TLS";

        /// <summary>The AUTH name of each mechanism the client knows ("TLS", "SSL", "X-SafeTP1", "KEA-SKIPJACK"), or
        /// <see cref="ImplicitTls"/>.</summary>
        public string Name { get; set; } = "";
        public bool Offered { get; set; }
        public int Port { get; set; }
        /// <summary>The server's reply to AUTH (or the handshake outcome for implicit TLS).</summary>
        public string? Reply { get; set; }
        public override string ToString() => $"{Name}: {(Offered ? "offered" : "not offered")}";
    }

    /// <summary>One TLS version: accepted, refused, or not testable from this machine (null).</summary>
    public sealed class ProbedTlsVersion
    {
        /// <summary>"Tls10", "Tls11", "Tls12", "Tls13".</summary>
        public string Version { get; set; } = "";
        /// <summary>True: handshake completed. False: the server refused it. Null: not known (see Detail).</summary>
        public bool? Accepted { get; set; }
        /// <summary>The suite the server chose when offered the client's defaults.</summary>
        public string? NegotiatedCipherSuite { get; set; }
        /// <summary>Suites the server accepted one by one (empty when not enumerated).</summary>
        public IList<string> CipherSuites { get; set; } = new List<string>();
        public string? Detail { get; set; }
        public override string ToString() => $"{Version}: {(Accepted == true ? "accepted" : Accepted == false ? "refused" : "unknown")}";
    }

    /// <summary>The server certificate as presented on the control connection.</summary>
    public sealed class ProbedCertificate
    {
        public string Subject { get; set; } = "";
        public string Issuer { get; set; } = "";
        public DateTime NotBefore { get; set; }
        public DateTime NotAfter { get; set; }
        /// <summary>SHA-256 of the certificate, upper-case hex with colons.</summary>
        public string Sha256Fingerprint { get; set; } = "";
        /// <summary>SHA-256 of the SubjectPublicKeyInfo (what the trust store pins), hex with colons.</summary>
        public string PublicKeySha256Fingerprint { get; set; } = "";
        /// <summary>The chain builds to a trusted root and the name matches the host probed.</summary>
        public bool IsValid { get; set; }
        /// <summary>What failed when not valid (e.g. "RemoteCertificateChainErrors: UntrustedRoot").</summary>
        public string? ValidationErrors { get; set; }
        public double DaysUntilExpiry => (NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays;
        public override string ToString() => $"{Subject} (issuer {Issuer}, expires {NotAfter:yyyy-MM-dd}, {(IsValid ? "valid" : "NOT valid")})";
    }

    /// <summary>Everything <see cref="ServerProbe"/> learnt. Null booleans mean "could not be determined";
    /// <see cref="Notes"/> says why.</summary>
    public sealed class ServerProbeResult
    {
        public string Host { get; set; } = "";
        public int Port { get; set; }
        public DateTime ProbedUtc { get; set; }
        public string? Greeting { get; set; }

        /// <summary>FEAT lines before any security exchange.</summary>
        public IList<string> Features { get; set; } = new List<string>();
        /// <summary>FEAT lines over TLS (servers often list PBSZ/PROT only there).</summary>
        public IList<string> FeaturesAfterTls { get; set; } = new List<string>();

        public IList<ProbedMechanism> Mechanisms { get; set; } = new List<ProbedMechanism>();
        public IList<ProbedTlsVersion> TlsVersions { get; set; } = new List<ProbedTlsVersion>();
        public ProbedCertificate? Certificate { get; set; }

        /// <summary>USER without AUTH was refused (530, 534, 550, 421...). False: the server asked for a password
        /// in cleartext (331) or let the user in.</summary>
        public bool? CleartextLoginRefused { get; set; }
        public string? CleartextLoginReply { get; set; }

        /// <summary>The login over TLS worked (only tried with a credential).</summary>
        public bool? LoginSucceeded { get; set; }

        /// <summary>PROT C was refused, or a transfer with PROT C was (521/522/534/536).</summary>
        public bool? ProtPRequired { get; set; }
        public string? ClearDataReply { get; set; }

        /// <summary>CCC got a 2xx reply.</summary>
        public bool? CccAccepted { get; set; }
        public string? CccReply { get; set; }

        /// <summary>A PROT P data connection with a fresh TLS session (no resumption) was refused.</summary>
        public bool? RequiresTlsSessionResumption { get; set; }
        public string? FreshSessionDataReply { get; set; }

        /// <summary>What could not be checked, and why.</summary>
        public IList<string> Notes { get; set; } = new List<string>();

        public bool TlsOffered => Mechanisms.Any(m => m.Offered && (TlsNames.Tls.IsAuthName(m.Name) || TlsNames.Ssl.IsAuthName(m.Name) || m.Name == ProbedMechanism.ImplicitTls));
        public IEnumerable<string> MechanismsOffered => Mechanisms.Where(m => m.Offered).Select(m => m.Name);
        public IEnumerable<string> TlsVersionsAccepted => TlsVersions.Where(v => v.Accepted == true).Select(v => v.Version);
        public IEnumerable<string> CipherSuitesAccepted => TlsVersions.Where(v => v.Accepted == true)
            .SelectMany(v => v.CipherSuites.Count > 0 ? v.CipherSuites : v.NegotiatedCipherSuite != null ? new[] { v.NegotiatedCipherSuite } : Array.Empty<string>())
            .Distinct();
    }
}
