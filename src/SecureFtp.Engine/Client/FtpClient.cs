using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security;

namespace SecureFtp
{
    /// <summary>One FTP session: the control connection, the agreed security, and the operations on it.
    /// Operations on one client are serialized; use one client per concurrent transfer.</summary>
    public sealed partial class FtpClient : IDisposable
    {
        public FtpClientOptions Options { get; }
        public string Host => Options.Host;
        public int Port { get; private set; }

        /// <summary>The agreed security; Details.Mechanism is "None" in cleartext.</summary>
        public SecurityDetails Security { get; private set; } = new SecurityDetails();

        public DataProtectionLevel DataProtection { get; private set; } = DataProtectionLevel.Clear;

        /// <summary>True while commands travel protected (false in cleartext and after CCC).</summary>
        public bool CommandChannelProtected { get; private set; }

        public string? UserName { get; private set; }
        public string? SystemType { get; private set; }
        public string? Greeting { get; private set; }

        /// <summary>FEAT lines, upper-cased feature names with their arguments.</summary>
        public IReadOnlyList<string> Features { get; private set; } = Array.Empty<string>();

        public bool IsConnected => _control?.IsConnected == true;

        public DateTime ConnectedAt { get; private set; }

        private FtpControlConnection? _control;
        private ISecuritySession? _security;

        private FtpClient(FtpClientOptions options)
        {
            Options = options;
        }

        internal FtpControlConnection Control => _control ?? throw new FtpException(FtpErrorKind.Connection, "NotConnected", "The session is not connected.");
    }
}
