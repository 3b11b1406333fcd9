using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Tls
{
    /// <summary>TLS agreed on a control connection (AUTH TLS/SSL or implicit). Opens data connections that
    /// resume its session, and takes the control connection back to cleartext for CCC.</summary>
    internal sealed class TlsSecuritySession : ISecuritySession, IPreparesDataStreams
    {
        private readonly string _host;
        private readonly TlsCertificateVerifier _verifier;
        private readonly SslProtocols _protocols;
        private readonly X509Certificate2? _clientCertificate;
        private readonly OpenSslContext? _openSsl;
        private readonly TimeSpan _dataTimeout;
        private readonly Action<string>? _verbose;
        private readonly Stream _rawControl;
        private TlsChannel? _control;
        private bool _commandChannelCleared;

        private TlsSecuritySession(FtpControlConnection control, SecurityNegotiationContext context, string mechanism, bool impliesPrivateData,
            X509Certificate2Collection? trustAnchors)
        {
            var options = context.Options;
            _host = control.Host;
            _verifier = new TlsCertificateVerifier(_host, options, context.Warn, trustAnchors, control.Port, control.RemoteEndPoint.Address);
            _protocols = options.TlsProtocols ?? SslProtocols.None;
            _clientCertificate = options.ClientCertificate;
            _dataTimeout = options.DataTimeout;
            _verbose = context.Verbose;
            _rawControl = control.Transport;
            ImpliesPrivateData = impliesPrivateData;
            Details = new SecurityDetails { Mechanism = mechanism };
            // See OpenSslContext for why sessions go to libssl directly wherever it exists: only there can a data
            // connection name the exact session to resume. A client certificate there needs an exportable key
            // (.NET 8+); without libssl (Windows, macOS) SslStream is all there is.
            if (OpenSslNative.IsAvailable)
            {
                _openSsl = new OpenSslContext(_protocols);
                _verbose?.Invoke($"TLS with {_host}: the session is run by OpenSSL directly so that each data connection resumes this control connection's session.");
            }
        }

        /// <summary>Runs the handshake on the control connection and switches its transport to TLS. The greeting
        /// (implicit TLS) or the next reply (AUTH) is read by the caller afterwards.</summary>
        internal static async Task<TlsSecuritySession> StartAsync(FtpControlConnection control, SecurityNegotiationContext context,
            string mechanism, bool impliesPrivateData, X509Certificate2Collection? trustAnchors, CancellationToken ct)
        {
            var session = new TlsSecuritySession(control, context, mechanism, impliesPrivateData, trustAnchors);
            try
            {
                var channel = await control.WithTimeout(c => session.ConnectAsync(session._rawControl, ownsRaw: false, isData: false, c),
                    "the TLS handshake", ct).ConfigureAwait(false);
                session._control = channel;
                control.ReplaceTransport(channel);
                session.FillDetails(channel);
                return session;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        public SecurityDetails Details { get; }

        public int ProposedBufferSize => 0; // RFC 4217 s.8: PBSZ 0 for TLS

        public void SetBufferSize(int negotiated) { }

        public bool ImpliesPrivateData { get; }

        /// <summary>AUTH SSL (the only TLS session that implies private data): its servers, written to
        /// draft-murray-auth-ftp-ssl before RFC 4217, never send close_notify on data connections (ftpd-ssl does not).
        /// curl accepts a missing close_notify always; we accept it only from them.</summary>
        public bool AcceptsUnsignalledDataEnd => ImpliesPrivateData;

        // RFC 4217 s.9: PROT S and E are not defined for TLS.
        public bool Supports(DataProtectionLevel level) => level is DataProtectionLevel.Clear or DataProtectionLevel.Private;

        public Task<Stream> OpenDataStreamAsync(Stream raw, DataProtectionLevel level, DataStreamRole role, CancellationToken ct)
        {
            if (level == DataProtectionLevel.Clear) return Task.FromResult(raw);
            CheckDataStream(level, role);
            return OpenDataChannelAsync(raw, c => ConnectAsync(raw, ownsRaw: true, isData: true, c), ct);
        }

        /// <summary>With OpenSSL, the data connection's ClientHello is generated before the connection is open (see
        /// <see cref="IPreparesDataStreams"/>). SslStream cannot split its handshake.</summary>
        public IPreparedDataStream? PrepareDataStream(DataProtectionLevel level, DataStreamRole role)
        {
            if (_openSsl == null || level == DataProtectionLevel.Clear) return null;
            CheckDataStream(level, role);
            return new PreparedDataChannel(this,
                OpenSslChannel.Prepare(_openSsl, Stream.Null, ownsRaw: true, _host, isData: true, _control as OpenSslChannel, _clientCertificate));
        }

        private sealed class PreparedDataChannel(TlsSecuritySession session, OpenSslChannel channel) : IPreparedDataStream
        {
            private bool _opened;

            public Task<Stream> OpenAsync(Stream raw, CancellationToken ct)
            {
                _opened = true;
                channel.AttachTransport(raw);
                return session.OpenDataChannelAsync(raw, async c => await channel.CompleteHandshakeAsync(session._verifier.CheckDataConnection, c).ConfigureAwait(false), ct);
            }

            public void Dispose()
            {
                if (!_opened) channel.Discard();
            }
        }

        private void CheckDataStream(DataProtectionLevel level, DataStreamRole role)
        {
            if (!Supports(level))
                throw new FtpException(FtpErrorKind.NotSupported, "ProtectionLevelNotSupported", $"TLS protects data connections with PROT P only, not PROT {level.ToProtCode()}.");
            if (role != DataStreamRole.Client)
                throw new FtpException(FtpErrorKind.NotSupported, "ServerRoleNotSupported", "The client TLS session cannot act as the TLS server of a data connection.");
        }

        /// <summary>Runs a data connection's handshake under the data timeout; closing the socket is what unblocks
        /// a handshake read on every framework.</summary>
        private async Task<Stream> OpenDataChannelAsync(Stream raw, Func<CancellationToken, Task<TlsChannel>> handshake, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_dataTimeout);
            using var reg = cts.Token.Register(() => { if (!ct.IsCancellationRequested) raw.Dispose(); });
            TlsChannel channel;
            try
            {
                channel = await handshake(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (cts.IsCancellationRequested && !ct.IsCancellationRequested && e is not FtpException { Kind: FtpErrorKind.Security })
            {
                raw.Dispose();
                throw new FtpException(FtpErrorKind.Timeout, "DataTimeout", $"The TLS handshake on the data connection with {_host} took longer than {_dataTimeout.TotalSeconds:0.#} s.", inner: e);
            }
            catch
            {
                raw.Dispose();
                throw;
            }
            if (_openSsl != null && !channel.SessionResumed)
                _verbose?.Invoke($"TLS with {_host}: the server did not resume the control connection's session on this data connection.");
            return channel;
        }

        public async Task ClearCommandChannelAsync(FtpControlConnection control, CancellationToken ct)
        {
            if (_control == null || _commandChannelCleared) return;
            // RFC 4217 s.12.3: both sides close TLS with close_notify and go on in cleartext on the same TCP
            // connection. The channel stays alive (not disposed) so data connections can still resume its session.
            await control.WithTimeout(c => _control.CloseTlsKeepTcpAsync(c), "the server's TLS close_notify after CCC", ct).ConfigureAwait(false);
            control.ReplaceTransport(_rawControl);
            _commandChannelCleared = true;
        }

        private async Task<TlsChannel> ConnectAsync(Stream raw, bool ownsRaw, bool isData, CancellationToken ct)
        {
            Func<X509Certificate2?, IReadOnlyList<X509Certificate2>, FtpException?> validate = isData ? _verifier.CheckDataConnection : _verifier.Check;
            if (_openSsl != null)
                return await OpenSslChannel.ConnectAsync(_openSsl, raw, ownsRaw, _host, isData, isData ? _control as OpenSslChannel : null,
                    _clientCertificate, validate, ct).ConfigureAwait(false);
            return await SslStreamChannel.ConnectAsync(raw, ownsRaw, _host, isData, _protocols, _clientCertificate,
                (leaf, chain) => validate(leaf, SentCertificates(chain)), ct).ConfigureAwait(false);
        }

        /// <summary>The certificates the server sent, as SslStream hands them to its callback.</summary>
        private static IReadOnlyList<X509Certificate2> SentCertificates(X509Chain? chain)
        {
            if (chain == null) return Array.Empty<X509Certificate2>();
            return chain.ChainPolicy.ExtraStore.Cast<X509Certificate2>()
                .Concat(chain.ChainElements.Cast<X509ChainElement>().Select(e => e.Certificate)).ToList();
        }

        private void FillDetails(TlsChannel channel)
        {
            Details.ProtocolVersion = channel.ProtocolVersion;
            Details.Cipher = channel.Cipher;
            Details.PeerFingerprint = _verifier.AcceptedFingerprint;
            Details.PeerName = channel.PeerCertificate?.Subject;
            Details.TrustSource = _verifier.TrustSource;
        }

        public void Dispose()
        {
            // Before CCC the control connection owns the channel (it is its transport) and closes it.
            if (_commandChannelCleared) _control?.Dispose();
            _openSsl?.Dispose();
        }
    }
}
