using System;
using System.IO;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureFtp.Security.Kea;
using SecureFtp.Security.SafeTp;
using SecureFtp.Server;
using SecureFtp.Trust;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>What New-SecureFtpKey made.</summary>
    public sealed class SecureFtpKeyInfo
    {
        internal SecureFtpKeyInfo(string type, string path, string? publicKeyPath, int bits, string? fingerprint, string? brand,
            string? certificateAuthorityPath = null, string? issuerCertificatePath = null)
        {
            Type = type;
            Path = path;
            PublicKeyPath = publicKeyPath;
            Bits = bits;
            Fingerprint = fingerprint;
            Brand = brand;
            CertificateAuthorityPath = certificateAuthorityPath;
            IssuerCertificatePath = issuerCertificatePath;
        }

        /// <summary>"SafeTpClient", "SafeTpServer", "Kea" or "TlsCertificate".</summary>
        public string Type { get; }

        /// <summary>The private file: the key, the KEA credential (certificate, issuer and key) or the TLS certificate with its key.</summary>
        public string Path { get; }

        /// <summary>The public half to hand to the other side: the SafeTP server key with its brand (for Add-FtpTrustedKey),
        /// or the KEA certificate alone.</summary>
        public string? PublicKeyPath { get; }
        public int Bits { get; }

        /// <summary>The SHA-256 fingerprint users compare with what Connect-SecureFtp shows (SafeTP server keys, KEA
        /// certificates, TLS certificates: the form -CertificateThumbprint accepts).</summary>
        public string? Fingerprint { get; }

        /// <summary>The SafeTP server brand, the KEA certificate's subject, or the TLS certificate's host name.</summary>
        public string? Brand { get; }

        /// <summary>KEA: the site CA file (certificate and private key) that issued the certificate; keep it off the server.</summary>
        public string? CertificateAuthorityPath { get; }

        /// <summary>KEA: the CA certificate alone, for Start-SecureFtpServer -KeaIssuer.</summary>
        public string? IssuerCertificatePath { get; }
    }

    /// <summary>The kinds of key New-SecureFtpKey makes. Client and Server are the earlier names of the SafeTP keys.</summary>
    public enum SecureFtpKeyType
    {
        SafeTpServer,
        SafeTpClient,
        Kea,
        TlsCertificate,
        Server = SafeTpServer,
        Client = SafeTpClient,
    }

    /// <summary>New-SecureFtpKey: makes the keys of every mechanism the module speaks. X-SafeTP1 (the SafeTP paper, s.5): a client
    /// key, or a branded server key with its public half exported for out-of-band distribution. KEA-SKIPJACK (RFC 2773):
    /// a key pair and certificate issued by a small site CA. TLS: a self-signed certificate and its key.</summary>
    [Cmdlet(VerbsCommon.New, "SecureFtpKey", SupportsShouldProcess = true)]
    [OutputType(typeof(SecureFtpKeyInfo))]
    public sealed class NewSecureFtpKeyCommand : SecureFtpCmdlet
    {
        /// <summary>The file name, beside the new KEA credential, of the site CA made when -CertificateAuthority is not given.</summary>
        internal const string DefaultCaFileName = "kea-ca.pem";

        [Parameter(Mandatory = true, Position = 0)]
        public SecureFtpKeyType Type { get; set; }

        /// <summary>The private file. SafeTP client keys default to the profile key Connect-SecureFtp uses.</summary>
        [Parameter(Position = 1)]
        public string? Path { get; set; }

        /// <summary>SafeTP server keys and KEA: where to write the public half. Defaults to Path with ".pub" (SafeTP) or ".crt" (KEA) added.</summary>
        [Parameter]
        public string? PublicKeyPath { get; set; }

        /// <summary>The SafeTP server brand users see when they first connect (the SafeTP paper, s.5.7), the KEA certificate's
        /// subject, or the TLS certificate's host name.</summary>
        [Parameter]
        public string? Brand { get; set; }

        /// <summary>KEA: the site CA file that issues the certificate; made there when it does not exist yet.
        /// Defaults to kea-ca.pem beside -Path.</summary>
        [Parameter]
        public string? CertificateAuthority { get; set; }

        [Parameter]
        [ValidateSet("1024", "2048", "3072")]
        public int Bits { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void EndProcessing()
        {
            string path = Path != null ? LocalPath(Path) : Type == SecureFtpKeyType.SafeTpClient ? SafeTpKeys.DefaultClientKeyPath
                : throw new PSArgumentException($"A {Type} key needs -Path.", nameof(Path));
            if (Bits > 0 && (Type == SecureFtpKeyType.Kea || Type == SecureFtpKeyType.TlsCertificate))
                throw new PSArgumentException("-Bits applies to X-SafeTP1 keys only: KEA keys use the CA's domain, TLS certificates RSA 2048.", nameof(Bits));
            try
            {
                if (File.Exists(path) && !Force)
                    throw new FtpException(FtpErrorKind.AlreadyExists, "KeyFileExists", $"The key file {path} exists; use -Force to replace it.");
                if (!ShouldProcess(path, $"Create a {Type} key")) return;
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                WriteObject(Type switch
                {
                    SecureFtpKeyType.SafeTpClient => NewSafeTpClientKey(path),
                    SecureFtpKeyType.SafeTpServer => NewSafeTpServerKey(path),
                    SecureFtpKeyType.Kea => NewKeaCredential(path),
                    _ => NewTlsCertificate(path),
                });
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, path);
            }
        }

        private SecureFtpKeyInfo NewSafeTpClientKey(string path)
        {
            var key = Run(_ => System.Threading.Tasks.Task.Run(() => SafeTpKeys.GenerateClientKey(Bits > 0 ? Bits : 2048)));
            SafeTpKeys.Save(key, path, overwrite: Force);
            return new SecureFtpKeyInfo("SafeTpClient", path, null, key.Bits, null, null);
        }

        private SecureFtpKeyInfo NewSafeTpServerKey(string path)
        {
            string brand = Brand ?? Environment.MachineName;
            var key = Run(_ => System.Threading.Tasks.Task.Run(() => SafeTpKeys.GenerateServerKey(brand, Bits > 0 ? Bits : SafeTpKeys.DefaultServerKeyBits)));
            string publicPath = PublicKeyPath != null ? LocalPath(PublicKeyPath) : path + ".pub";
            SafeTpKeys.Save(key, path, overwrite: Force);
            AtomicFile.Write(publicPath, Encoding.ASCII.GetBytes(SafeTpKeys.ExportServerPublicKey(key)), ownerOnly: false);
            return new SecureFtpKeyInfo("SafeTpServer", path, publicPath, key.Bits, key.Fingerprint, key.Brand);
        }

        /// <summary>Issues from the named (or default) site CA, making the CA first when its file does not exist, so that
        /// a server's and its users' credentials made in one folder share one issuer.</summary>
        private SecureFtpKeyInfo NewKeaCredential(string path)
        {
            string caPath = CertificateAuthority != null ? LocalPath(CertificateAuthority)
                : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, DefaultCaFileName);
            if (string.Equals(System.IO.Path.GetFullPath(caPath), System.IO.Path.GetFullPath(path), StringComparison.Ordinal))
#pragma warning disable CA2208 // names the cmdlet parameter (-CertificateAuthority) the user must change
                throw new PSArgumentException($"The KEA credential and its CA cannot share the file {path}.", nameof(CertificateAuthority));
#pragma warning restore CA2208
            string caCertificatePath = System.IO.Path.ChangeExtension(caPath, ".crt");
            var ca = Run(_ => System.Threading.Tasks.Task.Run(() =>
            {
                if (File.Exists(caPath)) return KeaCertificateAuthority.Load(caPath);
                // A tag makes each CA's name its own: a client looks its issuer up by name, so two CAs of one name would
                // make the other's certificates look forged.
                string tag = Guid.NewGuid().ToString("N").Substring(0, 8);
                var created = KeaCertificateAuthority.Create($"CN={Environment.MachineName} SecureFtp KEA CA {tag}");
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(caPath)!);
                created.Save(caPath);
                return created;
            }));
            ca.Issuer.Save(caCertificatePath);
            string subject = Brand ?? Environment.MachineName;
            var credential = Run(_ => System.Threading.Tasks.Task.Run(() => ca.Issue(subject)));
            string publicPath = PublicKeyPath != null ? LocalPath(PublicKeyPath) : path + ".crt";
            credential.Save(path);
            credential.SaveCertificate(publicPath);
            return new SecureFtpKeyInfo("Kea", path, publicPath, 1024, credential.Fingerprint, credential.Subject, caPath, caCertificatePath);
        }

        /// <summary>A .pfx or .p12 path gets PKCS#12 (no password: the file is owner-only); any other path PEM, the
        /// certificate then the PKCS#8 key. Start-SecureFtpServer -Certificate reads both.</summary>
        private SecureFtpKeyInfo NewTlsCertificate(string path)
        {
            string hostName = Brand ?? "localhost";
            using var certificate = Run(_ => System.Threading.Tasks.Task.Run(() => SecureFtpServer.CreateSelfSignedCertificate(hostName)));
            WriteOwnerOnly(path, IsPkcs12Path(path) ? certificate.Export(X509ContentType.Pkcs12) : Encoding.ASCII.GetBytes(ToPem(certificate)));
            return new SecureFtpKeyInfo("TlsCertificate", path, null, 2048, KeyFingerprint.Compute(certificate.RawData), hostName);
        }

        internal static bool IsPkcs12Path(string path)
        {
            string extension = System.IO.Path.GetExtension(path);
            return extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase);
        }

        private static string ToPem(X509Certificate2 certificate)
        {
#if NET8_0_OR_GREATER
            using var key = certificate.GetRSAPrivateKey()!;
            return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
#else
            throw new FtpException(FtpErrorKind.NotSupported, "PemNotSupported",
                "Windows PowerShell 5.1 cannot write a PEM private key: give -Path a .pfx name.");
#endif
        }

        /// <summary>Private keys are created readable by the owner only (0600 on Unix) before anything is written, under
        /// a temporary name renamed over the final one (<see cref="AtomicFile"/>): no moment with a wider mode, no half
        /// file, and the previous file stays until the new one is complete.</summary>
        private void WriteOwnerOnly(string path, byte[] bytes) => AtomicFile.Write(path, bytes, ownerOnly: true, overwrite: Force);
    }
}
