using System;
using System.Net;
using SecureFtp.Protocol;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Trust;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>X-SafeTP1 (the SafeTP paper, s.5; docs/protocol/X-SafeTP1.md): the entry points the client, the server and
    /// the proxy use. Everything else in this folder is internal.</summary>
    public static class SafeTpMechanism
    {
        /// <summary>The AUTH argument.</summary>
        public const string Name = SafeTpSecurity.Name;

        /// <summary>Its names: X-SafeTP1 on the wire, SafeTp in PowerShell.</summary>
        public static readonly MechanismName Names = new MechanismName(Name, nameof(FtpMechanism.SafeTp));

        /// <summary>X-SafeTP1 for the client's mechanism registry; Auto tries it after TLS.</summary>
        public static ClientMechanismRegistration ClientRegistration { get; } =
            new ClientMechanismRegistration(Names, c => CreateClient(c.Options, c.TrustStore, c.Transcript)) { OfferedByAuto = _ => true };

        /// <summary>X-SafeTP1 for the server's mechanism registry; a server offers it once given a key
        /// (SecureFtpServerOptions.AddSafeTp).</summary>
        public static ServerMechanismRegistration ServerRegistration { get; } = new ServerMechanismRegistration(Names, ServerMechanismKind.Rfc2228);

        /// <summary>The client mechanism for the negotiation policy. The client key comes from
        /// <see cref="FtpClientOptions.ClientKeyPath"/> or the profile (made on first use); server keys are checked
        /// against <paramref name="trustStore"/> with <see cref="FtpClientOptions.AcceptNewKey"/>,
        /// <see cref="FtpClientOptions.ErrorOnUntrusted"/> and <see cref="FtpClientOptions.ConfirmNewKey"/>.</summary>
        /// <param name="options">The client's options: client key, trust policy and the confirmation callback.</param>
        /// <param name="trustStore">Where known server keys are looked up and newly trusted ones recorded.</param>
        /// <param name="transcript">Attached to the control connection before the greeting: DIGT is then checked
        /// right after the exchange (the SafeTP paper, s.5.10).</param>
        public static Rfc2228ClientMechanism CreateClient(FtpClientOptions options, ITrustStore trustStore, ControlTranscript? transcript = null)
        {
            SafeTpClientKey? key = null;
            return new Rfc2228ClientMechanism(Name, (control, _) =>
            {
                key ??= SafeTpKeys.LoadOrCreateClientKey(options.ClientKeyPath);
                return CreateClientSecurity(key, control, trustStore, options);
            }, transcript);
        }

        /// <summary>The client half for one control connection, with an explicit key.</summary>
        public static IRfc2228Security CreateClientSecurity(SafeTpClientKey clientKey, FtpControlConnection control, ITrustStore trustStore, FtpClientOptions options)
            => new SafeTpClientSecurity(clientKey, new SafeTpClientContext(control.Host, control.Port, control.RemoteEndPoint.Address, trustStore, options));

        /// <summary>The client half without a socket (tests, tools): <paramref name="peerAddress"/> is the address the
        /// server must sign.</summary>
        public static IRfc2228Security CreateClientSecurity(SafeTpClientKey clientKey, string host, int port, IPAddress peerAddress, ITrustStore trustStore, FtpClientOptions options)
            => new SafeTpClientSecurity(clientKey, new SafeTpClientContext(host, port, peerAddress, trustStore, options));

        /// <summary>The server half for an AUTH argument, or null when it does not name X-SafeTP1: plug it into
        /// <see cref="Rfc2228ServerNegotiation"/>'s factory. <paramref name="serverAddress"/> is the control
        /// connection's local address (the client checks it, s.5.3).</summary>
        public static IRfc2228Security? TryCreateServer(string authArgument, SafeTpServerKey key, IPAddress serverAddress, SafeTpServerPolicy? policy = null)
            => string.Equals(authArgument.Trim(), Name, StringComparison.OrdinalIgnoreCase) ? new SafeTpServerSecurity(key, serverAddress, policy) : null;

        /// <summary>A server-half factory for a server's mechanism table: called once per AUTH with the control
        /// connection's local address.</summary>
        public static Func<IPAddress, IRfc2228Security> ServerFactory(SafeTpServerKey key, SafeTpServerPolicy? policy = null)
        {
            SafeTpGroups.ForBits((policy ?? new SafeTpServerPolicy()).MinimumElGamalBits);
            return address => new SafeTpServerSecurity(key, address, policy);
        }
    }
}
