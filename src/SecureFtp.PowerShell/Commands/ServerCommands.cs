using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using SecureFtp.Security.Kea;
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

        /// <summary>The TLS certificate, as an object or a file (PFX without password, or PEM with the key: New-SecureFtpKey
        /// -Type TlsCertificate); without one a self-signed certificate for localhost is made.</summary>
        [Parameter]
        [CertificateFileTransformation]
        public X509Certificate2? Certificate { get; set; }

        /// <summary>The AUTH mechanisms offered, in FEAT order, by any name the server's mechanism registry knows (AUTH
        /// name or short name: KEA-SKIPJACK or KeaSkipjack). Unset: TLS and SSL, plus X-SafeTP1 and KEA-SKIPJACK when
        /// their keys are given.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(MechanismCompleter))]
        public string[] Mechanism { get; set; } = { "TLS", "SSL" };

        /// <summary>Also offers X-SafeTP1 with this server key (New-SecureFtpKey -Type SafeTpServer).</summary>
        [Parameter]
        [Alias("SafeTpKeyPath")]
        public string? ServerKey { get; set; }

        /// <summary>Also offers KEA-SKIPJACK with this server credential (New-SecureFtpKey -Type Kea).</summary>
        [Parameter]
        public string? KeaCredential { get; set; }

        /// <summary>CA certificates whose KEA client certificates are accepted, beside the CA of -KeaCredential.</summary>
        [Parameter]
        public string[]? KeaIssuer { get; set; }

        /// <summary>KEA client certificate (subject DN, CN, or SHA-256 fingerprint) to the user name or names it may log in as ("*": any).</summary>
        [Parameter]
        public Hashtable? KeaUserMap { get; set; }

        [Parameter]
        public SwitchParameter AllowInsecure { get; set; }

        [Parameter]
        [Alias("RequireSecure")]
        public SwitchParameter RequireProtectedData { get; set; }

        /// <summary>Control connections open at once, from all clients; one more gets 421.</summary>
        [Parameter]
        [ValidateRange(1, 100000)]
        public int MaxConnections { get; set; } = 512;

        /// <summary>Control connections open at once from one client address (IPv6: one /64); 0: no limit.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int MaxConnectionsPerAddress { get; set; } = 32;

        /// <summary>Seconds a client has to log in after connecting; commands meanwhile do not extend it.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int LoginTimeoutSec { get; set; } = 30;

        /// <summary>Seconds a logged-in client may stay without a command (a running transfer counts as activity).</summary>
        [Parameter]
        [ValidateRange(1, 604800)]
        public int IdleTimeoutSec { get; set; } = 300;

        protected override void EndProcessing()
        {
            var options = new SecureFtpServerOptions
            {
                MaxConnections = MaxConnections,
                MaxConnectionsPerAddress = MaxConnectionsPerAddress,
                LoginTimeout = TimeSpan.FromSeconds(LoginTimeoutSec),
                IdleTimeout = TimeSpan.FromSeconds(IdleTimeoutSec),
                Root = ParameterSetName == RootSet ? LocalPath(Root) : null,
                Upstream = ParameterSetName == UpstreamSet ? Upstream : null,
                Port = Port,
                ListenAddress = ListenAddress,
                ImplicitTlsPort = ImplicitTlsPort >= 0 ? ImplicitTlsPort : null,
                Users = (Credential ?? Array.Empty<PSCredential>()).Select(c => c.GetNetworkCredential()).ToList(),
                AllowAnonymous = AllowAnonymous,
                Certificate = Certificate ?? SecureFtpServer.CreateSelfSignedCertificate(),
                Mechanisms = Mechanism.Select(ServerMechanisms.ToAuthName).ToList(),
                AllowInsecure = AllowInsecure,
                RequireProtectedData = RequireProtectedData,
            };
            SecureFtpServer? server = null;
            try
            {
                if (ServerKey != null) options.AddSafeTp(SafeTpKeys.LoadServerKey(LocalPath(ServerKey)));
                if (KeaCredential != null) options.AddKea(KeaOptions());
                else if (KeaIssuer != null || KeaUserMap != null)
                    throw new PSArgumentException("-KeaIssuer and -KeaUserMap need -KeaCredential, the server's KEA certificate and key.", nameof(KeaCredential));
                // An explicit list is what the user wants offered; a key alone adds its mechanism to the default list.
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Mechanism)))
                    options.Mechanisms = Mechanism.Select(ServerMechanisms.ToAuthName).ToList();
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

        private KeaServerOptions KeaOptions()
        {
            var kea = new KeaServerOptions(Security.Kea.KeaCredential.Load(LocalPath(KeaCredential!)));
            foreach (var issuer in KeaIssuer ?? Array.Empty<string>()) kea.TrustedIssuers.Add(Security.Kea.KeaIssuer.Load(LocalPath(issuer)));
            foreach (DictionaryEntry entry in KeaUserMap ?? new Hashtable())
            {
                string certificate = entry.Key?.ToString() ?? "";
                var users = LanguagePrimitives.ConvertTo<string[]>(entry.Value);
                if (users.Length == 0 || users.Any(string.IsNullOrEmpty))
                    throw new PSArgumentException($"-KeaUserMap maps '{certificate}' to no user name.", nameof(KeaUserMap));
                if (IsFingerprint(certificate)) kea.Users.MapFingerprint(certificate, users);
                else kea.Users.MapSubject(certificate, users);
            }
            return kea;
        }

        /// <summary>A SHA-256 fingerprint: 64 hex digits, colons optional. Anything else is a subject (a DN, or a plain CN).</summary>
        private static bool IsFingerprint(string text)
        {
            string hex = text.Replace(":", "");
            return hex.Length == 64 && hex.All(Uri.IsHexDigit);
        }
    }

    /// <summary>Lets -Certificate take a file path (string or FileInfo) as well as a certificate: PKCS#12 (.pfx, .p12)
    /// without a password, or PEM holding the certificate and its private key.</summary>
    internal sealed class CertificateFileTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            string? path = value switch
            {
                string text => text,
                FileInfo file => file.FullName,
                _ => null,
            };
            if (path == null) return inputData;
            path = engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            try
            {
                return Load(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is System.Security.Cryptography.CryptographicException || e is FtpException)
            {
                throw new ArgumentTransformationMetadataException($"Cannot read a certificate with its private key from {path}: {e.Message}", e);
            }
        }

        private static X509Certificate2 Load(string path)
        {
            if (NewSecureFtpKeyCommand.IsPkcs12Path(path)) return new X509Certificate2(path, (string?)null, X509KeyStorageFlags.Exportable);
#if NET8_0_OR_GREATER
            // Through PKCS#12: a key read from PEM is ephemeral, which SslStream on Windows cannot use.
            using var pem = X509Certificate2.CreateFromPemFile(path);
            return new X509Certificate2(pem.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
#else
            throw new FtpException(FtpErrorKind.NotSupported, "PemNotSupported", "Windows PowerShell 5.1 reads certificates from .pfx files only.");
#endif
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
