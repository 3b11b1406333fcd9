using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.SafeTp;
using SecureFtp.Security.Tls;

namespace SecureFtp
{
    /// <summary>The client's mechanisms, by AUTH name: the one place that lists the concrete mechanism types. A new
    /// mechanism is a folder under Security/ with its <see cref="ClientMechanismRegistration"/>, plus one line here.
    /// Everything else talks to <see cref="IClientSecurityMechanism"/> and resolves names through the registry.</summary>
    public static class ClientMechanisms
    {
        /// <summary>Policy words that are not AUTH mechanisms: Auto expands to the registered mechanisms Auto offers,
        /// ImplicitTls changes how the connection starts, None allows cleartext.</summary>
        public const string Auto = nameof(FtpMechanism.Auto);
        public const string ImplicitTls = nameof(FtpMechanism.ImplicitTls);
        public const string None = nameof(FtpMechanism.None);

        /// <summary>The policy words, for completion and error messages.</summary>
        public static readonly string[] PolicyWords = { Auto, ImplicitTls, None };

        /// <summary>The registry <see cref="FtpClientOptions.MechanismRegistry"/> starts with. Auto tries its
        /// mechanisms in this order: TLS, X-SafeTP1, then KEA-SKIPJACK when a KEA credential is configured.</summary>
        public static MechanismRegistry<ClientMechanismRegistration> Default { get; } = CreateDefault();

        /// <summary>A fresh registry with the built-in mechanisms, to add one's own to without touching <see cref="Default"/>.</summary>
        public static MechanismRegistry<ClientMechanismRegistration> CreateDefault() => new MechanismRegistry<ClientMechanismRegistration>("client", new[]
        {
            TlsClientMechanism.TlsRegistration,
            TlsClientMechanism.SslRegistration,
            SafeTpMechanism.ClientRegistration,
            KeaMechanism.ClientRegistration,
        });

        /// <summary>Implicit TLS: wraps the control connection before the greeting.</summary>
        internal static Task<ISecuritySession> StartImplicitTlsAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
            => TlsClientMechanism.NegotiateImplicitAsync(control, context, ct);
    }
}
