using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security.Tls;
using SecureFtp.Trust;

namespace SecureFtp.Diagnostics
{
    // Test-SecureFtpServer's probe: certificate and FEAT over TLS.
    internal sealed partial class ProbeRun
    {
        private async Task CertificateAsync(TlsRoute route, CancellationToken ct)
        {
            var (connection, session) = await OpenTlsAsync(route, null, null, true, ct).ConfigureAwait(false);
            using (connection)
            using (session)
            {
                if (session.Certificate != null)
                {
                    var certificate = session.Certificate;
                    _result.Certificate = new ProbedCertificate
                    {
                        Subject = certificate.Subject,
                        Issuer = certificate.Issuer,
                        NotBefore = certificate.NotBefore.ToUniversalTime(),
                        NotAfter = certificate.NotAfter.ToUniversalTime(),
                        Sha256Fingerprint = KeyFingerprint.Compute(certificate.RawData),
                        PublicKeySha256Fingerprint = KeyFingerprint.Compute(CertificateKeys.SubjectPublicKeyInfo(certificate.RawData)),
                        IsValid = session.ValidationErrors == null,
                        ValidationErrors = session.ValidationErrors,
                    };
                }
                var feat = await connection.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
                if (feat.Code == 211) _result.FeaturesAfterTls = FeatureLines(feat);
                await QuitAsync(connection, ct).ConfigureAwait(false);
            }
        }
    }
}
