using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Security;

namespace SecureFtp
{
    /// <summary>The built-in security mechanisms and policy words, typed. Each member's name resolves through
    /// <see cref="ClientMechanisms"/> like any other name (<see cref="FtpClientOptions.MechanismNames"/> takes the
    /// AUTH names and mechanisms registered later as well). The policy tries the allowed ones in the order given.</summary>
    public enum FtpMechanism
    {
        /// <summary>Try TLS, then X-SafeTP1, then KEA-SKIPJACK (when a KEA certificate is configured).</summary>
        Auto,
        /// <summary>AUTH TLS (RFC 4217), TLS-C.</summary>
        Tls,
        /// <summary>TLS from the first byte, before the greeting (port 990 by default).</summary>
        ImplicitTls,
        /// <summary>AUTH SSL / TLS-P (draft-murray-auth-ftp-ssl): data is protected without PROT.</summary>
        Ssl,
        /// <summary>X-SafeTP1 over RFC 2228 ADAT (the SafeTP paper, section 5).</summary>
        SafeTp,
        /// <summary>KEA with SKIPJACK over RFC 2228 ADAT (RFC 2773).</summary>
        KeaSkipjack,
        /// <summary>Plain RFC 959: no security at all. Must be asked for explicitly.</summary>
        None,
    }

    /// <summary>What to do when the server refuses every mechanism the user allowed (500/502/504 to AUTH).</summary>
    public enum FallbackPolicy
    {
        /// <summary>Stop before any credential is sent (the default).</summary>
        Refuse,
        /// <summary>Warn, then go on in cleartext.</summary>
        Warn,
        /// <summary>Go on in cleartext quietly.</summary>
        Allow,
    }

    public enum DataConnectionMode
    {
        /// <summary>EPSV, then PASV when the server does not know EPSV.</summary>
        Passive,
        /// <summary>EPRT, then PORT.</summary>
        Active,
    }

    /// <summary>Everything a connection needs. No PowerShell types: the cmdlets translate PSCredential etc.</summary>
    public sealed class FtpClientOptions
    {
        public string Host { get; set; } = "";

        /// <summary>0 means the default: 990 for implicit TLS, 21 otherwise.</summary>
        public int Port { get; set; }

        /// <summary>Null means anonymous (unless <see cref="UserName"/> is set).</summary>
        public NetworkCredential? Credential { get; set; }

        /// <summary>A user name to log in with and no password, when <see cref="Credential"/> is null: for servers that
        /// log the user in from the client certificate (TLS <see cref="ClientCertificate"/>, or a KEA certificate) and
        /// answer USER with 232 (RFC 2228 s.4; RFC 4217 s.12.2). If the server asks for a password instead (331), the
        /// login fails (PasswordRequired) without sending PASS.</summary>
        public string? UserName { get; set; }

        /// <summary>The mechanisms allowed, in order. Defaults to Auto. <see cref="MechanismNames"/>, when not empty,
        /// takes its place.</summary>
        public IList<FtpMechanism> Mechanisms { get; set; } = new List<FtpMechanism> { FtpMechanism.Auto };

        /// <summary>The mechanisms allowed, in order, by name: an AUTH name ("KEA-SKIPJACK", "TLS-C"), a short name
        /// ("KeaSkipjack"), a policy word (Auto, ImplicitTls, None), or the name of a mechanism added to
        /// <see cref="MechanismRegistry"/>. Empty (the default): <see cref="Mechanisms"/> decides.</summary>
        public IList<string> MechanismNames { get; set; } = new List<string>();

        /// <summary>Where mechanism names resolve; <see cref="ClientMechanisms.Default"/> unless a caller brings its own.</summary>
        public MechanismRegistry<ClientMechanismRegistration> MechanismRegistry { get; set; } = ClientMechanisms.Default;

        public FallbackPolicy FallbackPolicy { get; set; } = FallbackPolicy.Refuse;

        /// <summary>The data protection to set after login. Null (the default) means Private whenever a security
        /// mechanism was agreed. An explicit level is a requirement: the connection fails if it cannot be had.</summary>
        public DataProtectionLevel? DataProtection { get; set; }

        public DataConnectionMode DataConnectionMode { get; set; } = DataConnectionMode.Passive;

        /// <summary>Try EPSV before PASV (RFC 2428). Off forces PASV, for servers or middleboxes that break on EPSV
        /// (curl's --disable-epsv, lftp's ftp:prefer-epsv).</summary>
        public bool UseExtendedPassive { get; set; } = true;

        /// <summary>Send a download's commands together (MDTM, EPSV and RETR in one flight) instead of waiting a round
        /// trip for each, as lftp does with ftp:sync-mode off. Only on a TLS control connection (no middlebox can
        /// read, let alone rewrite, what it cannot decrypt; RFC 2228 mechanisms pair each command with its reply),
        /// only in passive mode, never for a resume, and never with servers known to lose pipelined commands. Off waits for every reply, as RFC 959 s.5.4 asks.</summary>
        public bool PipelineCommands { get; set; } = true;

        /// <summary>The address to announce in EPRT/PORT; null = the control connection's local address.</summary>
        public IPAddress? ActiveAddress { get; set; }

        // ---- TLS ----
        /// <summary>Null lets the OS pick (TLS 1.2 and 1.3).</summary>
        public SslProtocols? TlsProtocols { get; set; }

        /// <summary>Accepted certificate fingerprints: SHA-256 or SHA-1 of the certificate, or the SHA-256 of
        /// its SubjectPublicKeyInfo (base64 or hex). Hex may contain colons. A match replaces chain and name checks.</summary>
        public IList<string> PinnedFingerprints { get; set; } = new List<string>();

        /// <summary>Accept any certificate (warns). As Invoke-WebRequest -SkipCertificateCheck.</summary>
        public bool SkipCertificateCheck { get; set; }

        public X509Certificate2? ClientCertificate { get; set; }

        // ---- RFC 2228 mechanisms and trust ----
        /// <summary>Trust store folder; null = $SECUREFTP_TRUST_STORE or the user's profile default.</summary>
        public string? TrustStorePath { get; set; }

        /// <summary>Accept an unknown server key without asking (trust-first-time).</summary>
        public bool AcceptNewKey { get; set; }

        /// <summary>Refuse an unknown server key without asking.</summary>
        public bool ErrorOnUntrusted { get; set; }

        /// <summary>Asked when a server key is seen for the first time; returns true to trust it.
        /// The cmdlets wire this to ShouldContinue.</summary>
        public Func<string, string, bool>? ConfirmNewKey { get; set; }

        /// <summary>X-SafeTP1 client key file; null = the user's profile key (made on first use).</summary>
        public string? ClientKeyPath { get; set; }

        /// <summary>KEA client certificate/key file (PEM or PKCS#12) for KEA-SKIPJACK.</summary>
        public string? KeaCredentialPath { get; set; }

        /// <summary>Commands to send before AUTH (RFC 4217 s.10.3 lets the user control the order).</summary>
        public IList<string> PreAuthCommands { get; set; } = new List<string>();

        // ---- behaviour ----
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

        /// <summary>How long one whole control reply may take, first byte to last line. A total, not a per-read limit:
        /// a server dripping one byte every few seconds fails with SlowReply once this has passed.</summary>
        public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

        // ---- limits on what a server may send (a hostile or broken server must not hold or flood the client) ----
        /// <summary>Preliminary (1xx) replies accepted before a command's final reply; more end the session with
        /// TooManyPreliminaryReplies (a server answering 150 forever). Each one is awaited for at most <see cref="ReadTimeout"/>.</summary>
        public int MaxPreliminaryReplies { get; set; } = Protocol.FtpControlConnection.DefaultMaxPreliminaryReplies;

        /// <summary>Lines one reply may have; a multi-line reply ("211-") that does not end within them fails with ReplyTooLong.</summary>
        public int MaxReplyLines { get; set; } = Protocol.FtpReplyReader.MaxLinesPerReply;

        /// <summary>Bytes one reply may have (line ends included); the memory a reply can cost is bounded by it.</summary>
        public int MaxReplyBytes { get; set; } = Protocol.FtpReplyReader.MaxReplyBytes;

        public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Send OPTS UTF8 ON when the server lists UTF8 in FEAT.</summary>
        public bool UseUtf8 { get; set; } = true;

        public Encoding Encoding { get; set; } = new UTF8Encoding(false);

        public Action<string>? Warning { get; set; }
        public Action<string>? Verbose { get; set; }

        /// <summary>Every control line, credentials redacted. True = sent by us.</summary>
        public Action<bool, string>? Trace { get; set; }

        public int EffectivePort => Port != 0 ? Port : (Policy.MechanismOrder.IsImplicitOnly(this) ? 990 : 21);

        public FtpClientOptions Clone() => (FtpClientOptions)MemberwiseClone();
    }
}
