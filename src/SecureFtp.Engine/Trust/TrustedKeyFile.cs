using System;
using System.IO;
using System.Text;

namespace SecureFtp.Trust
{
    /// <summary>Reads a key acquired out of band (the SafeTP paper, s.5.7, s.6.2 "Out-of-band Key Entry") for
    /// Add-FtpTrustedKey -Path. Accepted files:
    /// <list type="bullet">
    /// <item>a certificate, PEM ("BEGIN CERTIFICATE") or DER: its SubjectPublicKeyInfo is the key (TLS, KEA);
    /// the subject becomes the brand when none is given;</item>
    /// <item>an X-SafeTP1 server public key as New-SecureFtpKey exports it ("BEGIN X-SAFETP1 SERVER PUBLIC KEY"):
    /// the key is its DSA key encoding, as the server presents it in the 334, and the brand is the signed brand
    /// (a brand whose signature does not verify is refused);</item>
    /// <item>any other PEM block ("BEGIN PUBLIC KEY", "BEGIN X-SAFETP1 PUBLIC KEY", ...): its bytes are the key,
    /// exactly as the mechanism presents it; an RFC 1421 header line "Brand: name" gives the brand;</item>
    /// <item>a binary file that is not a certificate: its bytes are the key.</item>
    /// </list></summary>
    public static class TrustedKeyFile
    {
        private const string SafeTpPublicKeyLabel = "X-SAFETP1 SERVER PUBLIC KEY";

        public static TrustedKey Read(string path, string host, int port, string keyType, string? brand = null)
        {
            byte[] content;
            try { content = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FtpException(FtpErrorKind.LocalIo, "KeyFileUnreadable", $"The key file {path} could not be read: {e.Message}", inner: e);
            }
            var (publicKey, fileBrand) = Parse(content, path);
            var key = TrustedKey.FromPublicKey(host, port, TrustKeyTypes.Normalize(keyType), publicKey, brand ?? fileBrand, TrustSources.OutOfBand);
            return key;
        }

        internal static (byte[] PublicKey, string? Brand) Parse(byte[] content, string path)
        {
            var text = Encoding.ASCII.GetString(content);
            int begin = text.IndexOf("-----BEGIN ", StringComparison.Ordinal);
            if (begin < 0)
            {
                if (content.Length == 0) throw Invalid(path, "it is empty");
                return LooksLikeCertificate(content) ? FromCertificate(content, path) : (content, null);
            }
            int labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            if (labelEnd < 0) throw Invalid(path, "its PEM header is incomplete");
            var label = text.Substring(begin + 11, labelEnd - begin - 11);
            if (label == SafeTpPublicKeyLabel)
            {
                var safeTp = Security.SafeTp.SafeTpKeys.ParseServerPublicKey(text.Substring(begin));
                return (safeTp.PublicKeyEncoding, safeTp.Brand);
            }
            var endMarker = "-----END " + label + "-----";
            int end = text.IndexOf(endMarker, labelEnd, StringComparison.Ordinal);
            if (end < 0) throw Invalid(path, $"'{endMarker}' is missing");
            string? brand = null;
            var body = new StringBuilder();
            foreach (var raw in text.Substring(labelEnd + 5, end - labelEnd - 5).Split('\n'))
            {
                var line = raw.Trim();
                int colon = line.IndexOf(':');
                if (colon > 0)
                {
                    if (line.Substring(0, colon).Trim().Equals("Brand", StringComparison.OrdinalIgnoreCase))
                        brand = line.Substring(colon + 1).Trim();
                    continue;
                }
                body.Append(line);
            }
            byte[] der;
            try { der = Convert.FromBase64String(body.ToString()); }
            catch (FormatException) { throw Invalid(path, $"the {label} block is not base64"); }
            if (der.Length == 0) throw Invalid(path, $"the {label} block is empty");
            return label.EndsWith("CERTIFICATE", StringComparison.Ordinal) ? FromCertificate(der, path) : (der, brand);
        }

        private static (byte[], string?) FromCertificate(byte[] der, string path)
        {
            try
            {
                using var certificate = new System.Security.Cryptography.X509Certificates.X509Certificate2(der);
                return (CertificateKeys.SubjectPublicKeyInfo(der), certificate.Subject);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // .NET cannot parse some certificates (KEA keys); BouncyCastle can, and the subject is optional.
                return (CertificateKeys.SubjectPublicKeyInfo(der), null);
            }
        }

        private static bool LooksLikeCertificate(byte[] der)
        {
            try { CertificateKeys.SubjectPublicKeyInfo(der); return true; }
            catch (FtpException) { return false; }
        }

        private static FtpException Invalid(string path, string why)
            => new FtpException(FtpErrorKind.Trust, "InvalidKeyFile", $"The key file {path} holds no key: {why}.");
    }
}
