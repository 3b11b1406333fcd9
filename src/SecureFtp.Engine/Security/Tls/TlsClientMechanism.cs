using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Tls
{
    /// <summary>FTP over TLS as a client: explicit AUTH TLS (alias TLS-C, RFC 4217) and AUTH SSL (alias TLS-P,
    /// draft-murray-auth-ftp-ssl: data is protected without PROT), plus implicit TLS through <see cref="NegotiateImplicitAsync(FtpControlConnection, SecurityNegotiationContext, CancellationToken)"/>.</summary>
    public sealed class TlsClientMechanism : IClientSecurityMechanism
    {
        /// <param name="name">"TLS", "TLS-C", "SSL" or "TLS-P" (any case; sent upper-case, as draft-murray-auth-ftp-ssl asks).</param>
        public TlsClientMechanism(string name = "TLS")
        {
            Name = name.Trim().ToUpperInvariant();
            if (!TlsNames.Tls.AuthNames.Concat(TlsNames.Ssl.AuthNames).Contains(Name, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"'{name}' is not a TLS mechanism name ({string.Join(", ", TlsNames.Tls.AuthNames.Concat(TlsNames.Ssl.AuthNames))}).", nameof(name));
        }

        /// <summary>AUTH TLS for the client's mechanism registry; Auto tries it first.</summary>
        public static ClientMechanismRegistration TlsRegistration { get; } =
            new ClientMechanismRegistration(TlsNames.Tls, _ => new TlsClientMechanism(TlsNames.Tls.AuthName))
            {
                OfferedByAuto = _ => true,
                AuthAcceptedCodes = new[] { 234 },
                StartsTls = true,
            };

        /// <summary>AUTH SSL for the client's mechanism registry; only by name (servers that still speak it are old).</summary>
        public static ClientMechanismRegistration SslRegistration { get; } =
            new ClientMechanismRegistration(TlsNames.Ssl, _ => new TlsClientMechanism(TlsNames.Ssl.AuthName))
            {
                // Old AUTH SSL servers answer 334 (draft-murray-auth-ftp-ssl).
                AuthAcceptedCodes = new[] { 234, 334 },
                StartsTls = true,
            };

        public string Name { get; }

        /// <summary>SSL and TLS-P protect the data connection from the start (draft-murray-auth-ftp-ssl).</summary>
        public bool ImpliesPrivateData => TlsNames.Ssl.Matches(Name);

        /// <summary>A CA the chain may end at instead of the system roots. Tests only.</summary>
        internal X509Certificate2Collection? TrustAnchors { get; set; }

        public async Task<ISecuritySession?> NegotiateAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
        {
            var reply = await control.ExecuteAsync("AUTH " + Name, ct).ConfigureAwait(false);
            // Not available here (500/502/504, 534, 431, vsftpd's 530...): the policy may try another mechanism.
            if (AuthReplies.IsRefusal(reply)) return null;
            // 234 per RFC 4217; old AUTH SSL servers answer 334 (draft-murray-auth-ftp-ssl).
            bool accepted = reply.Code == 234 || (ImpliesPrivateData && reply.Code == 334);
            if (!accepted)
                throw new FtpException(reply.Code == 421 ? FtpErrorKind.Connection : FtpErrorKind.Protocol, "UnexpectedAuthReply",
                    $"{control.Host} answered AUTH {Name} with {reply.Code} {reply.Message}, which neither starts TLS nor refuses it.", reply);
            return await TlsSecuritySession.StartAsync(control, context, ImpliesPrivateData ? "SSL" : "TLS", ImpliesPrivateData, TrustAnchors, ct)
                .ConfigureAwait(false);
        }

        /// <summary>Implicit TLS: the handshake is the first thing on the connection, so call this right after
        /// <see cref="FtpControlConnection.OpenAsync"/> and read the greeting afterwards, over TLS. Implicit TLS
        /// protects the control channel only: servers (vsftpd, proftpd) still wait for PBSZ/PROT before they protect
        /// data, and curl and lftp send them, so the session does not report ImpliesPrivateData.</summary>
        public static Task<ISecuritySession> NegotiateImplicitAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
            => NegotiateImplicitAsync(control, context, null, ct);

        internal static async Task<ISecuritySession> NegotiateImplicitAsync(FtpControlConnection control, SecurityNegotiationContext context,
            X509Certificate2Collection? trustAnchors, CancellationToken ct)
            => await TlsSecuritySession.StartAsync(control, context, "Implicit TLS", impliesPrivateData: false, trustAnchors, ct).ConfigureAwait(false);
    }
}
