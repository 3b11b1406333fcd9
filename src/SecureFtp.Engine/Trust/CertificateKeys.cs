using System;
using Org.BouncyCastle.X509;

namespace SecureFtp.Trust
{
    /// <summary>Reads the public key out of a certificate whatever its algorithm (KEA keys included, which .NET
    /// cannot parse). BouncyCastle stays inside this class.</summary>
    internal static class CertificateKeys
    {
        /// <summary>The DER SubjectPublicKeyInfo of a DER certificate.</summary>
        public static byte[] SubjectPublicKeyInfo(byte[] certificateDer)
        {
            try
            {
                var certificate = new X509CertificateParser().ReadCertificate(certificateDer)
                    ?? throw new FormatException("no certificate found");
                return certificate.CertificateStructure.SubjectPublicKeyInfo.GetEncoded();
            }
            catch (Exception e) when (e is not FtpException)
            {
                throw new FtpException(FtpErrorKind.Trust, "InvalidCertificate", $"The certificate could not be read: {e.Message}", inner: e);
            }
        }
    }
}
