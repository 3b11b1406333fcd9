using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Runtime.CompilerServices;
using SecureFtp.ClientProxy;
using SecureFtp.Security;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Start-SecureFtpClientProxy: SafeTP's client proxy (the SafeTP paper, s.3.1). Unmodified FTP clients
    /// connect to it in cleartext on this machine; it connects upstream as Connect-SecureFtp would and relays.</summary>
    [Cmdlet(VerbsLifecycle.Start, "SecureFtpClientProxy")]
    [OutputType(typeof(FtpClientProxyInfo))]
    public sealed class StartSecureFtpClientProxyCommand : SecureFtpCmdlet
    {
        [Parameter]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        [Parameter]
        public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

        /// <summary>"host[:port]" every legacy client is sent to. Unset: USER name@host[:port] routes each session.</summary>
        [Parameter(Position = 0)]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Upstream { get; set; }

        [Parameter]
        public FtpMechanism[] Mechanism { get; set; } = { FtpMechanism.Auto };

        [Parameter]
        public DataProtectionLevel? DataProtection { get; set; }

        [Parameter]
        public FallbackPolicy FallbackPolicy { get; set; } = FallbackPolicy.Refuse;

        [Parameter]
        [Alias("Thumbprint", "Fingerprint")]
        public string[]? CertificateThumbprint { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        /// <summary>Trust an unknown server key on first use (recorded in the store). Without it an unknown key is refused:
        /// a proxy has nobody to ask.</summary>
        [Parameter]
        public SwitchParameter AcceptKey { get; set; }

        [Parameter]
        [Alias("ClientKeyPath")]
        public string? ClientKey { get; set; }

        [Parameter]
        [Alias("KeaCredentialPath")]
        public string? KeaCredential { get; set; }

        /// <summary>Linux: send each connection to the address it had before a firewall REDIRECT sent it here.</summary>
        [Parameter]
        public SwitchParameter Transparent { get; set; }

        /// <summary>Legacy sessions open at once, in all and from one address.</summary>
        [Parameter]
        [ValidateRange(1, 10000)]
        public int MaxSessions { get; set; } = 64;

        [Parameter]
        [ValidateRange(1, 10000)]
        public int MaxSessionsPerAddress { get; set; } = 16;

        protected override void EndProcessing()
        {
            var client = new FtpClientOptions
            {
                Mechanisms = Mechanism.ToList(),
                DataProtection = DataProtection,
                FallbackPolicy = FallbackPolicy,
                PinnedFingerprints = (CertificateThumbprint ?? Array.Empty<string>()).ToList(),
                TrustStorePath = TrustStorePath is null ? null : LocalPath(TrustStorePath),
                AcceptNewKey = AcceptKey,
                ClientKeyPath = ClientKey is null ? null : LocalPath(ClientKey),
                KeaCredentialPath = KeaCredential is null ? null : LocalPath(KeaCredential),
            };
            var info = new FtpClientProxyInfo();
            var options = new ClientProxyOptions
            {
                ListenAddress = ListenAddress,
                Port = Port,
                Upstream = Upstream,
                Transparent = Transparent,
                Client = client,
                MaxSessions = MaxSessions,
                MaxSessionsPerAddress = MaxSessionsPerAddress,
                Log = info.Record,
                Advice = ErrorRecords.HintFor,
            };
            if (!IPAddress.IsLoopback(ListenAddress))
                WriteWarning($"The proxy listens on {ListenAddress}, not a loopback address: legacy clients reach it in CLEARTEXT, so their passwords cross that network unprotected.");
            var proxy = new SecureFtpClientProxy(options);
            try
            {
                Run(ct => proxy.StartAsync(ct));
                WriteObject(ClientProxyRegistry.ForCurrentRunspace().Add(info, proxy));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e) || e is InvalidOperationException || e is ArgumentException)
            {
                proxy.Dispose();
                ThrowTerminatingError(ErrorRecords.From(e, Upstream ?? ListenAddress.ToString()));
            }
        }
    }

    /// <summary>Get-SecureFtpClientProxy: the client proxies started in this runspace.</summary>
    [Cmdlet(VerbsCommon.Get, "SecureFtpClientProxy")]
    [OutputType(typeof(FtpClientProxyInfo))]
    public sealed class GetSecureFtpClientProxyCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0)]
        public int[]? Id { get; set; }

        protected override void EndProcessing()
        {
            foreach (var proxy in ClientProxyRegistry.ForCurrentRunspace().All)
                if (Id == null || Id.Contains(proxy.Id)) WriteObject(proxy);
        }
    }

    /// <summary>Stop-SecureFtpClientProxy: stops listening and ends the proxy's sessions (their clients get 421).</summary>
    [Cmdlet(VerbsLifecycle.Stop, "SecureFtpClientProxy", SupportsShouldProcess = true)]
    [OutputType(typeof(void))]
    public sealed class StopSecureFtpClientProxyCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true)]
        public FtpClientProxyInfo[]? Proxy { get; set; }

        protected override void ProcessRecord()
        {
            var registry = ClientProxyRegistry.ForCurrentRunspace();
            foreach (var proxy in Proxy ?? registry.All.ToArray())
            {
                if (!ShouldProcess(proxy.ToString(), "Stop client proxy")) continue;
                Run(_ => proxy.Proxy.StopAsync());
                proxy.Proxy.Dispose();
                registry.Remove(proxy);
            }
        }
    }

    /// <summary>A client proxy started by Start-SecureFtpClientProxy, as Get-SecureFtpClientProxy shows it.</summary>
    public sealed class FtpClientProxyInfo
    {
        private const int KeptLogEntries = 200;
        private readonly ConcurrentQueue<ClientProxyLogEntry> _log = new ConcurrentQueue<ClientProxyLogEntry>();
        private SecureFtpClientProxy? _proxy;

        internal FtpClientProxyInfo() { }

        internal void Attach(int id, SecureFtpClientProxy proxy)
        {
            Id = id;
            _proxy = proxy;
        }

        /// <summary>Keeps the last entries: a proxy runs in the background, with no cmdlet to write warnings to.</summary>
        internal void Record(ClientProxyLogEntry entry)
        {
            _log.Enqueue(entry);
            while (_log.Count > KeptLogEntries) _log.TryDequeue(out _);
        }

        public int Id { get; private set; }
        public SecureFtpClientProxy Proxy => _proxy ?? throw new InvalidOperationException("The proxy is not started.");
        public IPAddress ListenAddress => Proxy.ListenAddress;
        public int Port => Proxy.Port;

        /// <summary>The fixed upstream "host[:port]", or null.</summary>
        public string? Upstream => Proxy.Upstream;

        /// <summary>"Fixed" (-Upstream), "UserAtHost" (USER name@host[:port]) or "Transparent".</summary>
        public string Mode => Proxy.Mode;

        public bool IsRunning => Proxy.IsRunning;
        public DateTimeOffset? StartTime => Proxy.StartTime;
        public int ActiveSessions => Proxy.ActiveSessions;
        public long TotalSessions => Proxy.TotalSessions;

        /// <summary>Sessions refused: untrusted or changed keys, failed certificate checks, no acceptable mechanism, limits.</summary>
        public long Refusals => Proxy.RefusedSessions;

        public long BytesDownloaded => Proxy.BytesDownloaded;
        public long BytesUploaded => Proxy.BytesUploaded;
        public long TransfersCompleted => Proxy.TransfersCompleted;
        public long TransfersAborted => Proxy.TransfersAborted;

        /// <summary>The last 200 log entries: sessions, refusals with their reasons (never a password).</summary>
        public ClientProxyLogEntry[] RecentLog => _log.ToArray();

        public override string ToString() => $"ftp://{ListenAddress}:{Port}{(Upstream != null ? " -> " + Upstream : "")}";
    }

    /// <summary>The client proxies started in one runspace (as SessionRegistry keeps servers).</summary>
    internal sealed class ClientProxyRegistry
    {
        private static readonly ConditionalWeakTable<Runspace, ClientProxyRegistry> PerRunspace = new ConditionalWeakTable<Runspace, ClientProxyRegistry>();
        private readonly List<FtpClientProxyInfo> _proxies = new List<FtpClientProxyInfo>();
        private int _lastId;

        public static ClientProxyRegistry ForCurrentRunspace() => PerRunspace.GetValue(Runspace.DefaultRunspace, _ => new ClientProxyRegistry());

        public IReadOnlyList<FtpClientProxyInfo> All
        {
            get { lock (_proxies) return _proxies.ToList(); }
        }

        public FtpClientProxyInfo Add(FtpClientProxyInfo info, SecureFtpClientProxy proxy)
        {
            lock (_proxies)
            {
                info.Attach(++_lastId, proxy);
                _proxies.Add(info);
                return info;
            }
        }

        public void Remove(FtpClientProxyInfo proxy)
        {
            lock (_proxies) _proxies.Remove(proxy);
        }
    }
}
