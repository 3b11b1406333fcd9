using System;
using System.IO;
using System.Management.Automation;
using SecureFtp.Security.SafeTp;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>What New-SecureFtpKey made.</summary>
    public sealed class SecureFtpKeyInfo
    {
        internal SecureFtpKeyInfo(string type, string path, string? publicKeyPath, int bits, string? fingerprint, string? brand)
        {
            Type = type;
            Path = path;
            PublicKeyPath = publicKeyPath;
            Bits = bits;
            Fingerprint = fingerprint;
            Brand = brand;
        }

        /// <summary>"Client" or "Server".</summary>
        public string Type { get; }
        public string Path { get; }

        /// <summary>Server keys: the exported public key (with its brand) to hand to users for Add-FtpTrustedKey.</summary>
        public string? PublicKeyPath { get; }
        public int Bits { get; }

        /// <summary>Server keys: the SHA-256 fingerprint users compare with what Connect-SecureFtp shows.</summary>
        public string? Fingerprint { get; }
        public string? Brand { get; }
    }

    public enum SecureFtpKeyType { Client, Server }

    /// <summary>New-SecureFtpKey: makes an X-SafeTP1 key pair (seed 000 s.5): a client key, or a branded server key
    /// with its public half exported for out-of-band distribution.</summary>
    [Cmdlet(VerbsCommon.New, "SecureFtpKey", SupportsShouldProcess = true)]
    [OutputType(typeof(SecureFtpKeyInfo))]
    public sealed class NewSecureFtpKeyCommand : SecureFtpCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        public SecureFtpKeyType Type { get; set; }

        /// <summary>The private key file. Client keys default to the profile key Connect-SecureFtp uses.</summary>
        [Parameter(Position = 1)]
        public string? Path { get; set; }

        /// <summary>Server keys: where to write the public key. Defaults to Path with ".pub" added.</summary>
        [Parameter]
        public string? PublicKeyPath { get; set; }

        /// <summary>Server keys: the brand users see when they first connect (seed 000 s.5.7).</summary>
        [Parameter]
        public string Brand { get; set; } = Environment.MachineName;

        [Parameter]
        [ValidateSet("1024", "2048", "3072")]
        public int Bits { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void EndProcessing()
        {
            string path = Path != null ? LocalPath(Path) : Type == SecureFtpKeyType.Client ? SafeTpKeys.DefaultClientKeyPath
                : throw new PSArgumentException("A server key needs -Path.", nameof(Path));
            try
            {
                if (File.Exists(path) && !Force)
                    throw new FtpException(FtpErrorKind.AlreadyExists, "KeyFileExists", $"The key file {path} exists; use -Force to replace it.");
                if (!ShouldProcess(path, $"Create an X-SafeTP1 {Type.ToString().ToLowerInvariant()} key")) return;
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                if (Type == SecureFtpKeyType.Client)
                {
                    var key = Run(_ => System.Threading.Tasks.Task.Run(() => SafeTpKeys.GenerateClientKey(Bits > 0 ? Bits : 2048)));
                    SafeTpKeys.Save(key, path);
                    WriteObject(new SecureFtpKeyInfo("Client", path, null, key.Bits, null, null));
                }
                else
                {
                    var key = Run(_ => System.Threading.Tasks.Task.Run(() => SafeTpKeys.GenerateServerKey(Brand, Bits > 0 ? Bits : 1024)));
                    string publicPath = PublicKeyPath != null ? LocalPath(PublicKeyPath) : path + ".pub";
                    SafeTpKeys.Save(key, path);
                    File.WriteAllText(publicPath, SafeTpKeys.ExportServerPublicKey(key));
                    WriteObject(new SecureFtpKeyInfo("Server", path, publicPath, key.Bits, key.Fingerprint, key.Brand));
                }
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, path);
            }
        }
    }
}
