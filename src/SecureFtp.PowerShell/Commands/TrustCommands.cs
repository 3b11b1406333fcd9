using System;
using System.Linq;
using System.Management.Automation;
using System.IO;
using SecureFtp.Diagnostics;
using SecureFtp.Security.SafeTp;
using SecureFtp.Trust;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Add-FtpTrustedKey: records a server key or certificate obtained out of band (the SafeTP paper, s.5.2), so
    /// the first connection needs no trust-on-first-use decision.</summary>
    [Cmdlet(VerbsCommon.Add, "FtpTrustedKey", SupportsShouldProcess = true, DefaultParameterSetName = FileSet)]
    [OutputType(typeof(TrustedKey))]
    public sealed class AddFtpTrustedKeyCommand : SecureFtpCmdlet
    {
        private const string FileSet = "KeyFile";
        private const string FingerprintSet = "Fingerprint";

        [Parameter(Mandatory = true, Position = 0)]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        public string ComputerName { get; set; } = "";

        /// <summary>A key or certificate file: PEM, DER, or the SafeTP public key file.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = FileSet)]
        public string Path { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = FingerprintSet)]
        public string Fingerprint { get; set; } = "";

        [Parameter]
        [ValidateSet(TrustKeyTypes.Tls, TrustKeyTypes.SafeTp, TrustKeyTypes.Kea)]
        public string KeyType { get; set; } = TrustKeyTypes.Tls;

        /// <summary>0 (the default) trusts the key on any port.</summary>
        [Parameter]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        [Parameter]
        public string? Brand { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        protected override void EndProcessing()
        {
            try
            {
                var store = new FileTrustStore(TrustStorePath is null ? null : LocalPath(TrustStorePath));
                var key = ParameterSetName == FileSet
                    ? ReadKeyFile(LocalPath(Path))
                    : new TrustedKey
                    {
                        Host = ComputerName.ToLowerInvariant(), Port = Port, KeyType = KeyType, Fingerprint = KeyFingerprint.Normalize(Fingerprint),
                        Brand = Brand, AddedUtc = DateTime.UtcNow, Source = TrustSources.OutOfBand,
                    };
                if (!ShouldProcess($"{ComputerName} {key.KeyType} {key.Fingerprint}", $"Trust the key (store {store.Location})")) return;
                store.Add(key);
                WriteObject(store.Find(ComputerName, Port, key.KeyType).FirstOrDefault(k => KeyFingerprint.AreEqual(k.Fingerprint, key.Fingerprint)) ?? key);
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, ComputerName);
            }
        }

        /// <summary>The trust store's reader handles every key file, SafeTP's exported server key (brand and brand
        /// signature checked, the bare key stored) included.</summary>
        private TrustedKey ReadKeyFile(string path) => TrustedKeyFile.Read(path, ComputerName, Port, KeyType, Brand);
    }

    /// <summary>Get-FtpTrustedKey: the keys and pins in the trust store.</summary>
    [Cmdlet(VerbsCommon.Get, "FtpTrustedKey")]
    [OutputType(typeof(TrustedKey))]
    public sealed class GetFtpTrustedKeyCommand : SecureFtpCmdlet
    {
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        public string[]? ComputerName { get; set; }

        [Parameter]
        [ValidateSet(TrustKeyTypes.Tls, TrustKeyTypes.SafeTp, TrustKeyTypes.Kea)]
        public string? KeyType { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        protected override void EndProcessing()
        {
            try
            {
                var store = new FileTrustStore(TrustStorePath is null ? null : LocalPath(TrustStorePath));
                foreach (var key in store.GetAll())
                {
                    if (KeyType != null && !string.Equals(key.KeyType, KeyType, StringComparison.OrdinalIgnoreCase)) continue;
                    if (ComputerName != null && !ComputerName.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(key.Host))) continue;
                    WriteObject(key);
                }
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, TrustStorePath);
            }
        }
    }

    /// <summary>Remove-FtpTrustedKey: forgets keys, e.g. after a server's key was legitimately replaced.</summary>
    [Cmdlet(VerbsCommon.Remove, "FtpTrustedKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveFtpTrustedKeyCommand : SecureFtpCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Host")]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        public string ComputerName { get; set; } = "";

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? KeyType { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Fingerprint { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var store = new FileTrustStore(TrustStorePath is null ? null : LocalPath(TrustStorePath));
                string what = $"{ComputerName}{(Port != 0 ? ":" + Port : "")} {KeyType ?? "any type"} {Fingerprint ?? "any fingerprint"}";
                if (!ShouldProcess(what, $"Remove trusted keys (store {store.Location})")) return;
                if (store.Remove(ComputerName, Port, KeyType, Fingerprint) == 0)
                    WriteError(ErrorRecords.Create("TrustedKeyNotFound", ErrorCategory.ObjectNotFound, $"The trust store {store.Location} holds no key for {what}.", ComputerName));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, ComputerName);
            }
        }
    }

    /// <summary>Test-SecureFtpServer: what a server offers (AUTH mechanisms, TLS versions and cipher suites, the
    /// certificate, whether it accepts a cleartext login and requires PROT P), without transferring anything.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "SecureFtpServer")]
    [OutputType(typeof(ServerProbeResult))]
    public sealed class TestSecureFtpServerCommand : SecureFtpCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(KnownHostCompleter))]
        public string ComputerName { get; set; } = "";

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 21;

        [Parameter]
        [ValidateRange(1, 65535)]
        public int ImplicitTlsPort { get; set; } = 990;

        /// <summary>Logs in over TLS to check the login and PROT P requirements (never in cleartext).</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        [Parameter]
        [Alias("Thumbprint")]
        public string[]? CertificateThumbprint { get; set; }

        [Parameter]
        public string? TrustStorePath { get; set; }

        [Parameter]
        public SwitchParameter SkipCipherSuites { get; set; }

        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 10;

        protected override void ProcessRecord()
        {
            var options = new ServerProbeOptions
            {
                Host = ComputerName,
                Port = Port,
                ImplicitTlsPort = ImplicitTlsPort,
                Credential = Credential?.GetNetworkCredential(),
                PinnedFingerprints = (CertificateThumbprint ?? Array.Empty<string>()).ToList(),
                TrustStorePath = TrustStorePath is null ? null : LocalPath(TrustStorePath),
                EnumerateCipherSuites = !SkipCipherSuites,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                Verbose = message => Post(c => c.WriteVerbose(message)),
                Trace = (sent, line) => Post(c => c.WriteDebug((sent ? "> " : "< ") + line)),
            };
            try { WriteObject(Run(ct => ServerProbe.ProbeAsync(options, ct))); }
            catch (Exception e) when (ErrorRecords.IsReportable(e)) { WriteFailure(e, ComputerName); }
        }
    }
}
