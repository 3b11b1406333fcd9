using System;
using SecureFtp.Security;

namespace SecureFtp
{
    /// <summary>Creates the client mechanism object for each <see cref="FtpMechanism"/>. The one place that knows
    /// the concrete mechanism types; everything else talks to <see cref="IClientSecurityMechanism"/>.</summary>
    internal static class MechanismCatalog
    {
        public static IClientSecurityMechanism Create(FtpMechanism mechanism, FtpClientOptions options) => mechanism switch
        {
            _ => throw new FtpException(FtpErrorKind.NotSupported, "MechanismNotAvailable", $"The {mechanism} mechanism is not available in this build."),
        };

        /// <summary>Implicit TLS: wraps the control connection before the greeting.</summary>
        public static System.Threading.Tasks.Task<ISecuritySession> StartImplicitTlsAsync(Protocol.FtpControlConnection control, SecurityNegotiationContext context, System.Threading.CancellationToken ct)
            => throw new FtpException(FtpErrorKind.NotSupported, "MechanismNotAvailable", "Implicit TLS is not available in this build.");
    }
}
