using System;
using System.Collections.Generic;
using SecureFtp.Security;

namespace SecureFtp.PowerShell
{
    /// <summary>A connected session as PowerShell shows it: what was agreed with the server and the client that
    /// carries it. Returned by Connect-SecureFtp and Get-SecureFtpSession; every other cmdlet takes it by -Session.</summary>
    public sealed class FtpSession
    {
        internal FtpSession(int id, FtpClient client, EngineMessageSink sink)
        {
            Id = id;
            Client = client;
            Sink = sink;
        }

        public int Id { get; }
        public string ComputerName => Client.Host;
        public int Port => Client.Port;
        public string? UserName => Client.UserName;

        /// <summary>The agreed mechanism: "TLS", "SSL", "Implicit TLS", "X-SafeTP1", "KEA-SKIPJACK" or "None".</summary>
        public string Mechanism => Client.Security.Mechanism;

        /// <summary>The TLS version (e.g. "Tls13") or the RFC 2228 mechanism's protocol description.</summary>
        public string? ProtocolVersion => Client.Security.ProtocolVersion;

        public string? Cipher => Client.Security.Cipher;
        public DataProtectionLevel DataProtection => Client.DataProtection;
        public bool CommandChannelProtected => Client.CommandChannelProtected;

        /// <summary>SHA-256 fingerprint of the server's certificate or key.</summary>
        public string? PeerFingerprint => Client.Security.PeerFingerprint;

        public string? PeerName => Client.Security.PeerName;

        /// <summary>How the server was trusted: Chain, Pinned, TrustStore, FirstUse or Skipped.</summary>
        public string? TrustSource => Client.Security.TrustSource;

        public bool IsConnected => Client.IsConnected;
        public DateTime ConnectedAt => Client.ConnectedAt.ToLocalTime();
        public string? SystemType => Client.SystemType;
        public IReadOnlyList<string> Features => Client.Features;

        /// <summary>The engine client, for scripts that need an operation no cmdlet offers.</summary>
        public FtpClient Client { get; }

        /// <summary>Routes the engine's warnings, verbose lines and trust prompts to the cmdlet using the session now.</summary>
        internal EngineMessageSink Sink { get; }

        public override string ToString() => $"ftp://{(UserName != null ? UserName + "@" : "")}{ComputerName}:{Port}";
    }
}
