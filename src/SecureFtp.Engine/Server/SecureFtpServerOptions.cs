using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Linq;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.SafeTp;

namespace SecureFtp.Server
{
    /// <summary>How a <see cref="SecureFtpServer"/> runs. Set <see cref="Root"/> (embedded file server) or
    /// <see cref="Upstream"/> (SafeTP server proxy in front of a legacy ftpd, the SafeTP paper, s.3.2), never both.</summary>
    public sealed class SecureFtpServerOptions
    {
        /// <summary>Root mode: the directory served. Nothing outside it can be reached (.., symlinks, absolute paths).</summary>
        public string? Root { get; set; }

        /// <summary>Upstream mode: "host:port" of the legacy ftpd ("[::1]:2121" for IPv6). Commands go to it in
        /// cleartext, so it should listen on loopback only (the SafeTP paper, s.3.2, s.6.4).</summary>
        public string? Upstream { get; set; }

        /// <summary>The address to listen on; loopback unless told otherwise.</summary>
        public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

        /// <summary>The control port for plain and explicit-TLS clients; 0 picks a free port
        /// (read it back from <see cref="SecureFtpServer.Port"/>).</summary>
        public int Port { get; set; }

        /// <summary>A second listener where TLS starts before the greeting (implicit FTPS). Null: none;
        /// 0: a free port (see <see cref="SecureFtpServer.ImplicitTlsPort"/>). Needs <see cref="Certificate"/>.</summary>
        public int? ImplicitTlsPort { get; set; }

        /// <summary>Root mode: the accounts (user name and password). Upstream mode ignores them: the ftpd checks logins.</summary>
        public IList<NetworkCredential> Users { get; set; } = new List<NetworkCredential>();

        /// <summary>Root mode: "anonymous" and "ftp" may log in with any password, read-only.</summary>
        public bool AllowAnonymous { get; set; }

        /// <summary>The TLS certificate (with private key). Without one, AUTH TLS/SSL and implicit TLS are not offered.
        /// <see cref="SecureFtpServer.CreateSelfSignedCertificate"/> makes one for demos.</summary>
        public X509Certificate2? Certificate { get; set; }

        /// <summary>The AUTH mechanisms offered, by AUTH name, in FEAT order: "TLS" (also TLS-C), "SSL" (also TLS-P:
        /// data private without PROT), and any name in <see cref="Rfc2228Mechanisms"/>. Default: TLS and SSL.</summary>
        public IList<string> Mechanisms { get; set; } = new List<string> { "TLS", "SSL" };

        /// <summary>RFC 2228 ADAT mechanisms (X-SafeTP1, KEA-SKIPJACK) by AUTH name: each factory makes the server
        /// half for one control connection. Only names also listed in <see cref="Mechanisms"/> are offered.</summary>
        public IDictionary<string, Func<SecureFtpServerConnection, IRfc2228Security>> Rfc2228Mechanisms { get; set; }
            = new Dictionary<string, Func<SecureFtpServerConnection, IRfc2228Security>>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Offers X-SafeTP1 (the SafeTP paper, s.5) with this branded DSA server key.</summary>
        public SecureFtpServerOptions AddSafeTp(SafeTpServerKey key, SafeTpServerPolicy? policy = null)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            return AddRfc2228Mechanism(SafeTpMechanism.Name,
                connection => SafeTpMechanism.TryCreateServer(SafeTpMechanism.Name, key, connection.LocalEndPoint.Address, policy)!);
        }

        /// <summary>Offers KEA-SKIPJACK (RFC 2773) with this server credential. At USER the client's certificate must be
        /// mapped to the user name (<see cref="KeaServerOptions.Users"/>), or the login is refused.</summary>
        public SecureFtpServerOptions AddKea(KeaServerOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            return AddRfc2228Mechanism(KeaMechanism.Name, _ => KeaMechanism.TryCreateServer(KeaMechanism.Name, options)!);
        }

        /// <summary>Registers an RFC 2228 mechanism and lists it in <see cref="Mechanisms"/>.</summary>
        public SecureFtpServerOptions AddRfc2228Mechanism(string name, Func<SecureFtpServerConnection, IRfc2228Security> create)
        {
            name = ServerMechanisms.ToAuthName(name);
            Rfc2228Mechanisms[name] = create;
            if (!Mechanisms.Any(m => string.Equals(m.Trim(), name, StringComparison.OrdinalIgnoreCase))) Mechanisms.Add(name);
            return this;
        }

        /// <summary>Plain RFC 959 clients may log in without a security exchange (the SafeTP paper, s.4.3 and s.6.4).
        /// False (the default) is RFC 4217 s.10.1's "deny USER before TLS": USER gets 530 until AUTH succeeded,
        /// except anonymous when <see cref="AllowAnonymousInClear"/>.</summary>
        public bool AllowInsecure { get; set; }

        /// <summary>Per-user rule of RFC 4217 s.10.1: anonymous/ftp may log in without security even when
        /// <see cref="AllowInsecure"/> is false (public files do not need a private channel).</summary>
        public bool AllowAnonymousInClear { get; set; } = true;

        /// <summary>Insist on protected data connections (RFC 4217 s.10.2 option 3): PROT C is refused (534) and a
        /// transfer at PROT C is refused with 521.</summary>
        public bool RequireProtectedData { get; set; }

        /// <summary>TLS versions accepted; None lets the OS choose (TLS 1.2 and 1.3).</summary>
        public SslProtocols TlsProtocols { get; set; } = SslProtocols.None;

        /// <summary>The address announced in 227 replies; null means the control connection's local address.</summary>
        public IPAddress? PassiveAddress { get; set; }

        /// <summary>A logged-in control connection idle this long (no command, no transfer running) is closed with 421.</summary>
        public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>A client that has not logged in this long after connecting is closed with 421, whatever it sends
        /// meanwhile (NOOP, HELP and FEAT do not extend it): unauthenticated connections cannot be held open.</summary>
        public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Longest wait for a data connection to be made, for a TLS handshake, or for a stalled transfer.</summary>
        public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Control connections open at once, from all addresses; one more gets 421 and is closed.</summary>
        public int MaxConnections { get; set; } = 512;

        /// <summary>Control connections open at once from one client address (IPv6: one /64); one more gets 421 and is
        /// closed, so a single address cannot take every slot. 0: no per-address limit.</summary>
        public int MaxConnectionsPerAddress { get; set; } = 32;

        /// <summary>Password guessing: the first failed login from an address waits this long before the 530, and
        /// each further failure (from that address, or for that user name) doubles the wait up to
        /// <see cref="MaxFailedLoginDelay"/>.</summary>
        public TimeSpan FailedLoginDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>The longest wait after a failed login.</summary>
        public TimeSpan MaxFailedLoginDelay { get; set; } = TimeSpan.FromSeconds(8);

        /// <summary>Failed logins one address may make within <see cref="FailedLoginWindow"/>; after that its connections
        /// are refused with 421 until the failures age out. 0: no budget.</summary>
        public int MaxFailedLoginsPerAddress { get; set; } = 20;

        /// <summary>Failed logins for one user name, from anywhere, within <see cref="FailedLoginWindow"/>; after that
        /// the name cannot log in (530) until the failures age out, which stops guessing spread over many addresses.
        /// 0: no budget.</summary>
        public int MaxFailedLoginsPerUser { get; set; } = 50;

        /// <summary>How long a failed login counts against the address and the user name.</summary>
        public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(15);

        /// <summary>Root mode greeting text (upstream mode relays the ftpd's own greeting, the SafeTP paper, s.4.3).</summary>
        public string Banner { get; set; } = "SecureFtp server ready.";

        /// <summary>Receives what the server does: connections, commands (PASS and ACCT redacted) and replies,
        /// errors. Called from background threads; must not block for long.</summary>
        public Action<SecureFtpServerLogEntry>? Log { get; set; }
    }

    /// <summary>The control connection an RFC 2228 mechanism is made for (X-SafeTP1 signs the server's address).</summary>
    public sealed class SecureFtpServerConnection
    {
        public SecureFtpServerConnection(IPEndPoint localEndPoint, IPEndPoint remoteEndPoint)
        {
            LocalEndPoint = localEndPoint;
            RemoteEndPoint = remoteEndPoint;
        }

        public IPEndPoint LocalEndPoint { get; }
        public IPEndPoint RemoteEndPoint { get; }
    }

    public enum SecureFtpServerLogKind
    {
        Info,
        Command,
        Reply,
        Warning,
        Error,
    }

    /// <summary>One line of the server log. Commands are redacted: a password never appears.</summary>
    public sealed class SecureFtpServerLogEntry
    {
        public SecureFtpServerLogEntry(DateTimeOffset time, long sessionId, string? remoteEndPoint, SecureFtpServerLogKind kind, string message)
        {
            Time = time;
            SessionId = sessionId;
            RemoteEndPoint = remoteEndPoint;
            Kind = kind;
            Message = message;
        }

        public DateTimeOffset Time { get; }

        /// <summary>The control connection (numbered from 1); 0 for the server itself.</summary>
        public long SessionId { get; }

        public string? RemoteEndPoint { get; }
        public SecureFtpServerLogKind Kind { get; }
        public string Message { get; }

        public override string ToString() => $"{Time:HH:mm:ss.fff} [{SessionId}] {Kind} {Message}";
    }
}
