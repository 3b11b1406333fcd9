using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Security.Tls;
using SecureFtp.Trust;

namespace SecureFtp
{
    /// <summary>Creates the client mechanism object for each <see cref="FtpMechanism"/>. The one place that knows
    /// the concrete mechanism types; everything else talks to <see cref="IClientSecurityMechanism"/>.</summary>
    internal static class MechanismCatalog
    {
        /// <param name="transcript">The record of the cleartext conversation, for DIGT after an ADAT exchange.</param>
        public static IClientSecurityMechanism Create(FtpMechanism mechanism, FtpClientOptions options, ControlTranscript transcript) => mechanism switch
        {
            FtpMechanism.Tls or FtpMechanism.Ssl => TlsClientMechanism.For(mechanism),
            FtpMechanism.SafeTp => SafeTpMechanism.CreateClient(options, new FileTrustStore(options.TrustStorePath), transcript),
            FtpMechanism.KeaSkipjack => KeaMechanism.CreateClient(options, new FileTrustStore(options.TrustStorePath)),
            _ => throw new FtpException(FtpErrorKind.NotSupported, "MechanismNotAvailable", $"{mechanism} is not an AUTH mechanism."),
        };

        /// <summary>Implicit TLS: wraps the control connection before the greeting.</summary>
        public static Task<ISecuritySession> StartImplicitTlsAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
            => TlsClientMechanism.NegotiateImplicitAsync(control, context, ct);
    }
}
