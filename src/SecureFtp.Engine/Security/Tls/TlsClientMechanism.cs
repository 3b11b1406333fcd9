using System;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Tls
{
    /// <summary>FTP over TLS as a client: explicit AUTH TLS (alias TLS-C, RFC 4217) and AUTH SSL (alias TLS-P,
    /// seed 001: data is protected without PROT), plus implicit TLS through <see cref="NegotiateImplicitAsync"/>.</summary>
    public sealed class TlsClientMechanism : IClientSecurityMechanism
    {
        /// <param name="name">"TLS", "TLS-C", "SSL" or "TLS-P" (any case; sent upper-case, as seed 001 asks).</param>
        public TlsClientMechanism(string name = "TLS")
        {
            Name = name.Trim().ToUpperInvariant();
            if (Name is not ("TLS" or "TLS-C" or "SSL" or "TLS-P"))
                throw new ArgumentException($"'{name}' is not a TLS mechanism name (TLS, TLS-C, SSL, TLS-P).", nameof(name));
        }

        /// <summary>The mechanism for a policy entry: <see cref="FtpMechanism.Tls"/> or <see cref="FtpMechanism.Ssl"/>.</summary>
        public static TlsClientMechanism For(FtpMechanism mechanism) => mechanism switch
        {
            FtpMechanism.Tls => new TlsClientMechanism("TLS"),
            FtpMechanism.Ssl => new TlsClientMechanism("SSL"),
            _ => throw new ArgumentException($"{mechanism} is not an explicit TLS mechanism.", nameof(mechanism)),
        };

        public string Name { get; }

        /// <summary>SSL and TLS-P protect the data connection from the start (seed 001).</summary>
        public bool ImpliesPrivateData => Name is "SSL" or "TLS-P";

        /// <summary>A CA the chain may end at instead of the system roots. Tests only.</summary>
        internal X509Certificate2Collection? TrustAnchors { get; set; }

        public async Task<ISecuritySession?> NegotiateAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
        {
            var reply = await control.ExecuteAsync("AUTH " + Name, ct).ConfigureAwait(false);
            // Not available here (500/502/504, 534, 431, vsftpd's 530...): the policy may try another mechanism.
            if (AuthReplies.IsRefusal(reply)) return null;
            // 234 per RFC 4217; old AUTH SSL servers answer 334 (seed 001).
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
