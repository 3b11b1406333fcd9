using System;
using System.Net;
using System.Security.Cryptography;
using SecureFtp.Server;

namespace SecureFtp.PowerShell
{
    /// <summary>A server started by Start-SecureFtpServer, as Get-SecureFtpServer shows it.</summary>
    public sealed class FtpServerInfo
    {
        internal FtpServerInfo(int id, SecureFtpServer server)
        {
            Id = id;
            Server = server;
            var certificate = server.Options.Certificate;
            if (certificate != null)
            {
                using var sha = SHA256.Create();
                CertificateThumbprint = BitConverter.ToString(sha.ComputeHash(certificate.RawData)).Replace("-", "");
            }
        }

        public int Id { get; }
        public IPAddress ListenAddress => Server.ListenAddress;
        public int Port => Server.Port;
        public int? ImplicitTlsPort => Server.ImplicitTlsPort;

        /// <summary>"Root" (serves a folder) or "Upstream" (SafeTP proxy in front of another ftpd).</summary>
        public string Mode => Server.Mode;

        public string? Root => Server.Options.Root;
        public string? Upstream => Server.Options.Upstream;
        public bool IsRunning => Server.IsRunning;
        public int ActiveSessions => Server.ActiveSessions;
        public long ConnectionsAccepted => Server.ConnectionsAccepted;
        public DateTimeOffset? StartTime => Server.StartTime;

        /// <summary>SHA-256 of the TLS certificate (hex), ready for Connect-SecureFtp -CertificateThumbprint.</summary>
        public string? CertificateThumbprint { get; }

        public SecureFtpServer Server { get; }

        public override string ToString() => $"ftp://{ListenAddress}:{Port}";
    }
}
