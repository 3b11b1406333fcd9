using System;
using System.Net;

namespace SecureFtp.ClientProxy
{
    /// <summary>What a client proxy listens on, where it sends its legacy clients, and how it protects them upstream.
    /// The SafeTP paper, s.3.1: the legacy FTP client stays as it is; the proxy on the same machine speaks the secure
    /// protocol for it.</summary>
    public sealed class ClientProxyOptions
    {
        /// <summary>Where legacy clients connect: the loopback address unless told otherwise (their side is cleartext).</summary>
        public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

        /// <summary>0 takes a free port (see <see cref="SecureFtpClientProxy.Port"/>).</summary>
        public int Port { get; set; }

        /// <summary>What the proxy's operator can do about a refusal, by the engine's error id (the cmdlet layer maps ids
        /// to the commands that change the outcome). A legacy client has no error record to carry it, so the proxy
        /// appends it to the refusal's reply text. Null: the reply says what happened only.</summary>
        public Func<string, string?>? Advice { get; set; }

        /// <summary>A fixed "host[:port]" every legacy client is sent to; null routes by "USER name@host[:port]".</summary>
        public string? Upstream { get; set; }

        /// <summary>Linux only: each connection goes to the address it was sent to before the firewall redirected it
        /// to the proxy (SO_ORIGINAL_DST).</summary>
        public bool Transparent { get; set; }

        /// <summary>How the proxy connects upstream: mechanisms, fallback policy, data protection, pins, trust store,
        /// keys; exactly the options Connect-SecureFtp builds. Host, port and credential are filled per session.</summary>
        public FtpClientOptions Client { get; set; } = new FtpClientOptions();

        /// <summary>Legacy control connections open at once; more get 421.</summary>
        public int MaxSessions { get; set; } = 64;

        /// <summary>Legacy control connections open at once from one address; more get 421.</summary>
        public int MaxSessionsPerAddress { get; set; } = 16;

        /// <summary>A legacy client that has not logged in this long after connecting gets 421.</summary>
        public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>A legacy control connection idle this long gets 421.</summary>
        public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Longest wait for the legacy client's data connection, and for a stalled legacy data connection.</summary>
        public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>What the proxy does: sessions, refusals with their reasons. Called from background threads.</summary>
        public Action<ClientProxyLogEntry>? Log { get; set; }
    }

    public enum ClientProxyLogKind
    {
        Info,
        Refusal,
        Warning,
        Error,
    }

    /// <summary>One line of the proxy log. Never holds a password.</summary>
    public sealed class ClientProxyLogEntry
    {
        public ClientProxyLogEntry(DateTimeOffset time, long sessionId, string? client, ClientProxyLogKind kind, string message)
        {
            Time = time;
            SessionId = sessionId;
            Client = client;
            Kind = kind;
            Message = message;
        }

        public DateTimeOffset Time { get; }
        public long SessionId { get; }
        public string? Client { get; }
        public ClientProxyLogKind Kind { get; }
        public string Message { get; }

        public override string ToString() => $"{Time:HH:mm:ss.fff} [{SessionId}] {Kind} {Message}";
    }
}
