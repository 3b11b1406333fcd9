using System;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Start-SecureFtpServer: the embedded server, serving a folder (or, with -Upstream, a SafeTP proxy in
    /// front of a legacy ftpd). Listens on loopback and a free port unless told otherwise.</summary>
    [Cmdlet(VerbsLifecycle.Start, "SecureFtpServer", DefaultParameterSetName = RootSet)]
    [OutputType(typeof(FtpServerInfo))]
    public sealed class StartSecureFtpServerCommand : SecureFtpCmdlet
    {
        private const string RootSet = "Root";
        private const string UpstreamSet = "Upstream";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = RootSet)]
        public string Root { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = UpstreamSet)]
        public string Upstream { get; set; } = "";

        [Parameter]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        [Parameter]
        public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

        [Parameter]
        [ValidateRange(0, 65535)]
        public int ImplicitTlsPort { get; set; } = -1;

        /// <summary>The accounts that may log in (root mode).</summary>
        [Parameter(ParameterSetName = RootSet)]
        public PSCredential[]? Credential { get; set; }

        [Parameter(ParameterSetName = RootSet)]
        public SwitchParameter AllowAnonymous { get; set; }

        /// <summary>The TLS certificate; without one a self-signed certificate for localhost is made.</summary>
        [Parameter]
        public X509Certificate2? Certificate { get; set; }

        [Parameter]
        public string[] Mechanism { get; set; } = { "TLS", "SSL" };

        /// <summary>Also offers X-SafeTP1 with this server key (New-SecureFtpKey -Type Server).</summary>
        [Parameter]
        public string? SafeTpKeyPath { get; set; }

        [Parameter]
        public SwitchParameter AllowInsecure { get; set; }

        [Parameter]
        public SwitchParameter RequireProtectedData { get; set; }

        protected override void EndProcessing()
        {
            var options = new SecureFtpServerOptions
            {
                Root = ParameterSetName == RootSet ? LocalPath(Root) : null,
                Upstream = ParameterSetName == UpstreamSet ? Upstream : null,
                Port = Port,
                ListenAddress = ListenAddress,
                ImplicitTlsPort = ImplicitTlsPort >= 0 ? ImplicitTlsPort : null,
                Users = (Credential ?? Array.Empty<PSCredential>()).Select(c => c.GetNetworkCredential()).ToList(),
                AllowAnonymous = AllowAnonymous,
                Certificate = Certificate ?? SecureFtpServer.CreateSelfSignedCertificate(),
                Mechanisms = Mechanism.ToList(),
                AllowInsecure = AllowInsecure,
                RequireProtectedData = RequireProtectedData,
            };
            SecureFtpServer? server = null;
            try
            {
                if (SafeTpKeyPath != null) options.AddSafeTp(SafeTpKeys.LoadServerKey(LocalPath(SafeTpKeyPath)));
                server = new SecureFtpServer(options);
                Run(ct => server!.StartAsync(ct));
                WriteObject(SessionRegistry.ForCurrentRunspace().AddServer(server));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e) || e is InvalidOperationException)
            {
                server?.Dispose();
                ThrowTerminatingError(ErrorRecords.From(e, options.Root ?? options.Upstream));
            }
        }
    }

    /// <summary>Stop-SecureFtpServer: stops listening and closes the server's sessions.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "SecureFtpServer", SupportsShouldProcess = true)]
    [OutputType(typeof(void))]
    public sealed class StopSecureFtpServerCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true)]
        public FtpServerInfo[]? Server { get; set; }

        protected override void ProcessRecord()
        {
            var registry = SessionRegistry.ForCurrentRunspace();
            foreach (var server in Server ?? registry.Servers.ToArray())
            {
                if (!ShouldProcess(server.ToString(), "Stop server")) continue;
                Run(_ => server.Server.StopAsync());
                server.Server.Dispose();
                registry.RemoveServer(server);
            }
        }
    }

    /// <summary>Get-SecureFtpServer: the servers started in this runspace.</summary>
    [Cmdlet(VerbsCommon.Get, "SecureFtpServer")]
    [OutputType(typeof(FtpServerInfo))]
    public sealed class GetSecureFtpServerCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0)]
        public int[]? Id { get; set; }

        protected override void EndProcessing()
        {
            foreach (var server in SessionRegistry.ForCurrentRunspace().Servers)
                if (Id == null || Id.Contains(server.Id)) WriteObject(server);
        }
    }
}
