using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp.Security
{
    /// <summary>A client-side security mechanism that plugs into the RFC 2228 / RFC 4217 negotiation.
    /// TLS, SSL (TLS-P), X-SafeTP1 and KEA-SKIPJACK each implement this; the policy decides which to try.</summary>
    public interface IClientSecurityMechanism
    {
        /// <summary>The AUTH argument, e.g. "TLS", "SSL", "X-SafeTP1", "KEA-SKIPJACK".</summary>
        string Name { get; }

        /// <summary>Sends AUTH and completes the exchange on <paramref name="control"/>. Returns null when the
        /// server does not support the mechanism (500/502/504 to AUTH, RFC 2228 s.3): the caller then tries the
        /// next mechanism or applies the fallback policy. Throws <see cref="FtpException"/> when the exchange
        /// started and failed (bad key, bad certificate, tampering): that is never a reason to fall back.</summary>
        Task<ISecuritySession?> NegotiateAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct);
    }

    /// <summary>The security agreed on a control connection. Owned by the client session.</summary>
    public interface ISecuritySession : IDisposable
    {
        SecurityDetails Details { get; }

        /// <summary>The PBSZ value to propose (0 for TLS; the mechanism's block bound for RFC 2228 mechanisms).</summary>
        int ProposedBufferSize { get; }

        /// <summary>Records the buffer size the server accepted (PBSZ reply, "PBSZ=n" if it lowered it).</summary>
        void SetBufferSize(int negotiated);

        /// <summary>True when data is protected without a PROT command (AUTH SSL / TLS-P, draft-murray-auth-ftp-ssl).</summary>
        bool ImpliesPrivateData { get; }

        /// <summary>True when this mechanism's servers end data connections without the end-of-transfer signal as a
        /// matter of course (AUTH SSL servers predate RFC 4217 and never send close_notify on data connections), so
        /// such an end (<see cref="UnsignalledEndException"/>) is accepted on the server's completion reply. False:
        /// it is accepted only when the byte count proves the transfer whole.</summary>
        bool AcceptsUnsignalledDataEnd { get; }

        bool Supports(DataProtectionLevel level);

        /// <summary>Wraps a freshly connected data socket stream. For TLS this is the handshake that resumes the
        /// control connection's session; for RFC 2228 mechanisms it is the protected-block framing.
        /// The returned stream signals a truncated transfer (no close_notify, no end-of-file block) by throwing
        /// <see cref="FtpException"/> with kind Truncated instead of returning 0; an <see cref="UnsignalledEndException"/>
        /// when the peer closed cleanly but without the signal, which <see cref="AcceptsUnsignalledDataEnd"/> judges.</summary>
        Task<Stream> OpenDataStreamAsync(Stream raw, DataProtectionLevel level, DataStreamRole role, CancellationToken ct);

        /// <summary>CCC was accepted (200): take the control channel back to cleartext (TLS: close_notify, keep TCP).</summary>
        Task ClearCommandChannelAsync(FtpControlConnection control, CancellationToken ct);
    }

    /// <summary>What a mechanism needs from the session to negotiate.</summary>
    public sealed class SecurityNegotiationContext
    {
        public SecurityNegotiationContext(FtpClientOptions options) { Options = options; }

        public FtpClientOptions Options { get; }

        /// <summary>Writes a warning the user should see (e.g. certificate check skipped).</summary>
        public Action<string>? Warn { get; set; }

        /// <summary>Writes verbose detail.</summary>
        public Action<string>? Verbose { get; set; }
    }
}
