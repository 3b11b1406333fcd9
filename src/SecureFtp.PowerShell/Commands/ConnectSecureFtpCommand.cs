using System;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using SecureFtp.Security;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Connect-SecureFtp: opens a session (security per the policy, login, data protection) and makes it current.</summary>
    [Cmdlet(VerbsCommunications.Connect, "SecureFtp", DefaultParameterSetName = "Credential")]
    [OutputType(typeof(FtpSession))]
    public sealed class ConnectSecureFtpCommand : SecureFtpCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("HostName", "Server")]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        [ValidateNotNullOrEmpty]
        public string ComputerName { get; set; } = "";

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        [Parameter(Position = 1, ParameterSetName = "Credential")]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>A user name and no password: for servers that log the user in from the client certificate
        /// (-ClientCertificate, or a KEA certificate) and answer USER with 232 (RFC 4217 s.12.2).</summary>
        [Parameter(Mandatory = true, ParameterSetName = "UserName")]
        [ValidateNotNullOrEmpty]
        public string? UserName { get; set; }

        /// <summary>The mechanisms allowed, in order, by any name the client's mechanism registry knows (Tls or TLS,
        /// KeaSkipjack or KEA-SKIPJACK), or a policy word: Auto, ImplicitTls, None.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(MechanismCompleter))]
        public string[] Mechanism { get; set; } = { ClientMechanisms.Auto };

        /// <summary>Unset: Private whenever a security mechanism was agreed. Set: a requirement the connection must meet.</summary>
        [Parameter]
        public DataProtectionLevel? DataProtection { get; set; }

        [Parameter]
        public FallbackPolicy FallbackPolicy { get; set; } = FallbackPolicy.Refuse;

        [Parameter]
        [Alias("Thumbprint", "Fingerprint")]
        public string[]? CertificateThumbprint { get; set; }

        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        [Parameter]
        public X509Certificate2? ClientCertificate { get; set; }

        [Parameter]
        public SwitchParameter ActiveMode { get; set; }

        /// <summary>Waits for each reply before the next command, for a server that loses pipelined commands.</summary>
        [Parameter]
        public SwitchParameter NoPipelining { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        [Parameter]
        public SwitchParameter AcceptKey { get; set; }

        [Parameter]
        public SwitchParameter ErrorOnUntrusted { get; set; }

        /// <summary>The X-SafeTP1 client key (New-SecureFtpKey -Type SafeTpClient); unset: the profile key, made on first use.</summary>
        [Parameter]
        [Alias("ClientKeyPath")]
        public string? ClientKey { get; set; }

        /// <summary>The KEA-SKIPJACK client certificate and key (New-SecureFtpKey -Type Kea).</summary>
        [Parameter]
        [Alias("KeaCredentialPath")]
        public string? KeaCredential { get; set; }

        [Parameter]
        public string[]? PreAuthCommand { get; set; }

        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; }

        protected override void ProcessRecord()
        {
            var sink = new EngineMessageSink(this);
            var options = BuildOptions(sink);
            try
            {
                var client = Run(ct => FtpClient.ConnectAsync(options, ct));
                WriteObject(SessionRegistry.ForCurrentRunspace().Add(client, sink));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, ComputerName);
            }
        }

        /// <summary>The credential for the engine, its password whole: NetworkCredential reads a SecureString up to the
        /// first NUL, which would cut a password short silently instead of letting the engine refuse it.</summary>
        private static System.Net.NetworkCredential? NetworkCredentialOf(PSCredential? credential)
        {
            if (credential == null) return null;
            var network = credential.GetNetworkCredential();
            if (credential.Password is { Length: > 0 } secure)
            {
                IntPtr plain = System.Runtime.InteropServices.Marshal.SecureStringToGlobalAllocUnicode(secure);
                try { network.Password = System.Runtime.InteropServices.Marshal.PtrToStringUni(plain, secure.Length); }
                finally { System.Runtime.InteropServices.Marshal.ZeroFreeGlobalAllocUnicode(plain); }
            }
            return network;
        }

        private FtpClientOptions BuildOptions(EngineMessageSink sink)
        {
            var options = new FtpClientOptions
            {
                Host = ComputerName,
                Port = Port,
                Credential = NetworkCredentialOf(Credential),
                UserName = UserName,
                MechanismNames = Mechanism.ToList(),
                DataProtection = DataProtection,
                FallbackPolicy = FallbackPolicy,
                PinnedFingerprints = (CertificateThumbprint ?? Array.Empty<string>()).ToList(),
                SkipCertificateCheck = SkipCertificateCheck,
                ClientCertificate = ClientCertificate,
                DataConnectionMode = ActiveMode ? DataConnectionMode.Active : DataConnectionMode.Passive,
                PipelineCommands = !NoPipelining,
                TrustStorePath = TrustStorePath is null ? null : LocalPath(TrustStorePath),
                AcceptNewKey = AcceptKey,
                ErrorOnUntrusted = ErrorOnUntrusted,
                ClientKeyPath = ClientKey is null ? null : LocalPath(ClientKey),
                KeaCredentialPath = KeaCredential is null ? null : LocalPath(KeaCredential),
                PreAuthCommands = (PreAuthCommand ?? Array.Empty<string>()).ToList(),
                Warning = sink.Warning,
                Verbose = sink.Verbose,
                Trace = sink.Trace,
                ConfirmNewKey = sink.ConfirmNewKey,
            };
            if (TimeoutSec > 0)
            {
                options.ConnectTimeout = TimeSpan.FromSeconds(TimeoutSec);
                options.ReadTimeout = TimeSpan.FromSeconds(TimeoutSec);
            }
            return options;
        }
    }

    /// <summary>Disconnect-SecureFtp: QUIT and close; the session leaves the list (and stops being current).</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "SecureFtp")]
    [OutputType(typeof(void))]
    public sealed class DisconnectSecureFtpCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public FtpSession[]? Session { get; set; }

        protected override void ProcessRecord()
        {
            var registry = SessionRegistry.ForCurrentRunspace();
            var sessions = Session ?? (registry.Current != null ? new[] { registry.Current } : Array.Empty<FtpSession>());
            if (sessions.Length == 0 && !MyInvocation.BoundParameters.ContainsKey(nameof(Session)))
            {
                WriteError(ErrorRecords.Create("NoSession", ErrorCategory.InvalidOperation, "There is no SecureFtp session to disconnect.", null));
                return;
            }
            foreach (var session in sessions)
            {
                session.Sink.Target = this;
                Run(ct => session.Client.DisconnectAsync(ct));
                session.Client.Dispose();
                registry.Remove(session);
            }
        }
    }

    /// <summary>Get-SecureFtpSession: the sessions open in this runspace, or the current one.</summary>
    [Cmdlet(VerbsCommon.Get, "SecureFtpSession", DefaultParameterSetName = "All")]
    [OutputType(typeof(FtpSession))]
    public sealed class GetSecureFtpSessionCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0, ParameterSetName = "Id")]
        public int[]? Id { get; set; }

        [Parameter(ParameterSetName = "ComputerName")]
        [SupportsWildcards]
        public string[]? ComputerName { get; set; }

        [Parameter(ParameterSetName = "Current")]
        public SwitchParameter Current { get; set; }

        protected override void EndProcessing()
        {
            var registry = SessionRegistry.ForCurrentRunspace();
            if (Current)
            {
                if (registry.Current != null) WriteObject(registry.Current);
                return;
            }
            foreach (var session in registry.All)
            {
                if (Id != null && !Id.Contains(session.Id)) continue;
                if (ComputerName != null && !ComputerName.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(session.ComputerName))) continue;
                WriteObject(session);
            }
        }
    }
}
