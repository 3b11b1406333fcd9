using System;
using System.Net;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Trust;

namespace SecureFtp.Security.Kea
{
    /// <summary>KEA-SKIPJACK (RFC 2773; docs/protocol/KEA-SKIPJACK.md): the entry points the client, the server
    /// and the cmdlets use, in the shape of <c>SafeTpMechanism</c>.</summary>
    public static class KeaMechanism
    {
        /// <summary>The AUTH argument.</summary>
        public const string Name = KeaSecurity.Name;

        /// <summary>Its names: KEA-SKIPJACK on the wire, KeaSkipjack in PowerShell.</summary>
        public static readonly MechanismName Names = new MechanismName(Name, nameof(FtpMechanism.KeaSkipjack));

        /// <summary>KEA-SKIPJACK for the client's mechanism registry. Auto tries it last, and only when a KEA
        /// credential is configured: the exchange cannot start without one.</summary>
        public static ClientMechanismRegistration ClientRegistration { get; } =
            new ClientMechanismRegistration(Names, c => CreateClient(c.Options, c.TrustStore))
            {
                OfferedByAuto = options => options.KeaCredentialPath != null,
            };

        /// <summary>KEA-SKIPJACK for the server's mechanism registry; a server offers it once given a credential
        /// (SecureFtpServerOptions.AddKea).</summary>
        public static ServerMechanismRegistration ServerRegistration { get; } = new ServerMechanismRegistration(Names, ServerMechanismKind.Rfc2228);

        /// <summary>The client mechanism for the negotiation policy. The credential comes from
        /// <see cref="FtpClientOptions.KeaCredentialPath"/> (read when AUTH is accepted); a server certificate that
        /// the credential's CA did not issue is checked against <paramref name="trustStore"/> with the options'
        /// AcceptNewKey / ErrorOnUntrusted / ConfirmNewKey.</summary>
        public static Rfc2228ClientMechanism CreateClient(FtpClientOptions options, ITrustStore? trustStore)
        {
            KeaCredential? credential = null;
            return new Rfc2228ClientMechanism(Name, (control, _) =>
            {
                credential ??= LoadCredential(options.KeaCredentialPath);
                return CreateClientSecurity(credential, control.Host, control.Port, control.RemoteEndPoint.Address, trustStore, options);
            });
        }

        /// <summary>The client half for one control connection, with an explicit credential (tests, tools).</summary>
        public static KeaClientSecurity CreateClientSecurity(KeaCredential credential, string host, int port, IPAddress? peerAddress,
            ITrustStore? trustStore, FtpClientOptions options)
            => new KeaClientSecurity(new KeaClientOptions(credential, host, port)
            {
                TrustStore = trustStore,
                Policy = TrustPolicy.FromOptions(options),
                PeerAddress = peerAddress,
            });

        /// <summary>The server half for an AUTH argument, or null when it does not name KEA-SKIPJACK: plug it into
        /// <see cref="Rfc2228ServerNegotiation"/>'s factory. After the exchange, ask
        /// <see cref="KeaServerSecurity.IsUserAllowed"/> at USER/PASS.</summary>
        public static KeaServerSecurity? TryCreateServer(string authArgument, KeaServerOptions options)
            => string.Equals(authArgument.Trim(), Name, StringComparison.OrdinalIgnoreCase) ? new KeaServerSecurity(options) : null;

        private static KeaCredential LoadCredential(string? path)
        {
            if (string.IsNullOrEmpty(path))
                throw new FtpException(FtpErrorKind.Policy, "KeaCredentialMissing",
                    $"{Name} needs a KEA certificate and key, and none was configured.");
            return KeaCredential.Load(path!);
        }
    }
}
