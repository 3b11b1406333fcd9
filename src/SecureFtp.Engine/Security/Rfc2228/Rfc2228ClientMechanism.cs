using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>The client half of RFC 2228 for any ADAT mechanism (X-SafeTP1, KEA-SKIPJACK): AUTH, the
    /// ADAT/334/335/235 loop, then ENC-protected commands and 632 replies on the control connection, and
    /// protected data blocks on data connections. The mechanism itself only implements <see cref="IRfc2228Security"/>.</summary>
    public sealed class Rfc2228ClientMechanism : IClientSecurityMechanism
    {
        /// <summary>Largest number of ADAT round trips accepted before the exchange is declared broken.</summary>
        private const int MaxAdatRounds = 16;

        private readonly Func<FtpControlConnection, SecurityNegotiationContext, IRfc2228Security> _createSecurity;
        private readonly ControlTranscript? _transcript;

        /// <param name="name">The AUTH argument, e.g. "X-SafeTP1".</param>
        /// <param name="createSecurity">Makes the client half of the mechanism for this connection (it may look at
        /// the host, the peer address and the options: trust store, keys).</param>
        /// <param name="transcript">When given (attached with <see cref="ControlTranscript.AttachTo"/> before the
        /// greeting), DIGT is sent right after the exchange and a mismatch fails the connection (the SafeTP paper, s.5.10).</param>
        public Rfc2228ClientMechanism(string name, Func<FtpControlConnection, SecurityNegotiationContext, IRfc2228Security> createSecurity, ControlTranscript? transcript = null)
        {
            Name = name;
            _createSecurity = createSecurity;
            _transcript = transcript;
        }

        public string Name { get; }

        /// <summary>The PBSZ to propose; null = the mechanism's largest (benchmarks set it to measure block sizes).</summary>
        public int? ProposedBufferSize { get; set; }

        /// <summary>Command-channel protection to use; X-SafeTP1 and KEA use ENC.</summary>
        public ControlProtectionLevel ControlProtection { get; set; } = ControlProtectionLevel.Private;

        public async Task<ISecuritySession?> NegotiateAsync(FtpControlConnection control, SecurityNegotiationContext context, CancellationToken ct)
        {
            var reply = await control.ExecuteAsync("AUTH " + Name, ct).ConfigureAwait(false);
            if (AuthReplies.IsRefusal(reply)) return null;
            if (reply.Code != 334)
                throw new FtpException(FtpErrorKind.Security, "AuthRefused", $"{control.Host} refused AUTH {Name}: {reply.Code} {reply.Message}", reply);

            var security = _createSecurity(control, context);
            try
            {
                var data = reply.AdatData;
                if (data != null) Feed(security, data, control, reply);
                for (int round = 0; ; round++)
                {
                    if (round > MaxAdatRounds)
                        throw new FtpException(FtpErrorKind.Protocol, "AdatExchangeTooLong", $"The {Name} exchange with {control.Host} did not finish after {MaxAdatRounds} ADAT rounds.");
                    if (!security.HasOutgoingAdat)
                        throw new FtpException(FtpErrorKind.Protocol, "AdatExchangeStalled", $"The {Name} exchange with {control.Host} stopped before it completed (reply {reply.Code}).", reply);
                    var adat = security.GetNextOutgoingAdat();
                    reply = await control.ExecuteAsync("ADAT " + Convert.ToBase64String(adat), ct).ConfigureAwait(false);
                    if (reply.Code is 235 or 335)
                    {
                        data = reply.AdatData;
                        if (data != null) Feed(security, data, control, reply);
                        else if (reply.Code == 335)
                            throw new FtpException(FtpErrorKind.Protocol, "AdatMissing", $"{control.Host} answered ADAT with 335 but sent no ADAT data.", reply);
                        if (reply.Code == 235) break;
                        continue;
                    }
                    throw new FtpException(FtpErrorKind.Security, "AdatRejected", $"{control.Host} rejected the {Name} exchange: {reply.Code} {reply.Message}", reply);
                }
                if (!security.IsEstablished || security.HasOutgoingAdat)
                    throw new FtpException(FtpErrorKind.Security, "AdatIncomplete", $"{control.Host} declared the {Name} exchange complete (235) before it was.", reply);

                control.Protection = new Rfc2228ControlProtection(security, ControlProtection, control.Encoding);
                var session = new Rfc2228SecuritySession(security, ProposedBufferSize);
                if (_transcript != null)
                    await session.VerifyTranscriptAsync(control, _transcript, context, ct).ConfigureAwait(false);
                return session;
            }
            catch
            {
                control.Protection = null;
                security.Dispose();
                throw;
            }
        }

        private void Feed(IRfc2228Security security, byte[] data, FtpControlConnection control, FtpReply reply)
        {
            if (!security.ExpectingIncomingAdat)
                throw new FtpException(FtpErrorKind.Protocol, "UnexpectedAdat", $"{control.Host} sent ADAT data in reply {reply.Code} that the {Name} exchange did not expect.", reply);
            try
            {
                security.IncomingAdat(data);
            }
            catch (FtpException) { throw; }
            catch (Exception e)
            {
                throw new FtpException(FtpErrorKind.Security, "AdatInvalid", $"The {Name} data from {control.Host} in reply {reply.Code} is invalid: {e.Message}", reply, e);
            }
        }
    }

    /// <summary>An established RFC 2228 ADAT mechanism on the client: PBSZ, PROT levels and protected data streams.</summary>
    public sealed class Rfc2228SecuritySession : ISecuritySession
    {
        private readonly IRfc2228Security _security;
        private int _bufferSize;

        internal Rfc2228SecuritySession(IRfc2228Security security, int? proposedBufferSize)
        {
            _security = security;
            ProposedBufferSize = Math.Min(proposedBufferSize ?? security.MaxBufferSize, security.MaxBufferSize);
            _bufferSize = ProposedBufferSize;
        }

        public SecurityDetails Details => _security.Details;

        public int ProposedBufferSize { get; }

        /// <summary>The PBSZ in force (the proposal until the server answers).</summary>
        public int BufferSize => _bufferSize;

        public void SetBufferSize(int negotiated)
        {
            if (negotiated < Rfc2228ServerNegotiation.MinimumBufferSize || negotiated > ProposedBufferSize)
                throw new FtpException(FtpErrorKind.Protocol, "PbszInvalid",
                    $"The server set the protection buffer size to {negotiated}; it must be between {Rfc2228ServerNegotiation.MinimumBufferSize} and the {ProposedBufferSize} proposed.");
            _bufferSize = negotiated;
        }

        public bool ImpliesPrivateData => false;

        /// <summary>RFC 2228 s.9: the end of a protected file is an empty protected block; a connection that closes
        /// without it is cut, whoever the server is.</summary>
        public bool AcceptsUnsignalledDataEnd => false;

        public bool Supports(DataProtectionLevel level) => level == DataProtectionLevel.Clear || _security.Supports(level);

        public Task<Stream> OpenDataStreamAsync(Stream raw, DataProtectionLevel level, DataStreamRole role, CancellationToken ct)
        {
            if (level == DataProtectionLevel.Clear) return Task.FromResult(raw);
            if (!_security.Supports(level))
                throw new FtpException(FtpErrorKind.Policy, "ProtectionLevelNotSupported", $"{_security.MechanismName} does not offer PROT {level.ToProtCode()}.");
            Stream stream = new ProtectedDataStream(raw, () => _security.CreateDataTransform(level, sending: true),
                () => _security.CreateDataTransform(level, sending: false), _bufferSize);
            return Task.FromResult(stream);
        }

        /// <summary>After a 200 to CCC the commands go back to cleartext (RFC 2228 s.3). SafeTP servers refuse CCC
        /// (the SafeTP paper, s.6.5) with 534, which the caller reports before ever getting here.</summary>
        public Task ClearCommandChannelAsync(FtpControlConnection control, CancellationToken ct)
        {
            control.Protection = null;
            return Task.CompletedTask;
        }

        /// <summary>DIGT (the SafeTP paper, s.5.10): asks the server for the digest of the conversation so far and compares it
        /// with ours. A difference means a command or reply of the cleartext part was altered or swallowed (an AUTH
        /// answered 500 by someone on the path to force a weaker mechanism).</summary>
        public async Task VerifyTranscriptAsync(FtpControlConnection control, ControlTranscript transcript, SecurityNegotiationContext? context, CancellationToken ct)
        {
            string ours = transcript.ComputeDigest();
            var reply = await control.ExecuteAsync("DIGT", ct).ConfigureAwait(false);
            if (reply.Code is 500 or 502 or 504)
            {
                context?.Warn?.Invoke($"{control.Host} does not support DIGT: a mechanism downgrade before AUTH {_security.MechanismName} cannot be ruled out.");
                return;
            }
            int i = reply.Message.IndexOf("DIGT=", StringComparison.OrdinalIgnoreCase);
            if (reply.Code != 200 || i < 0)
                throw new FtpException(FtpErrorKind.Protocol, "DigestReplyMalformed", $"{control.Host} answered DIGT with {reply.Code} {reply.Message}", reply);
            string theirs = reply.Message.Substring(i + 5).Trim();
            int end = theirs.IndexOfAny(new[] { ' ', '\n' });
            if (end >= 0) theirs = theirs.Substring(0, end);
            if (!string.Equals(ours, theirs, StringComparison.OrdinalIgnoreCase))
                throw new FtpException(FtpErrorKind.Security, "TranscriptMismatch",
                    $"The server's digest of the conversation with {control.Host} differs from ours (ours {ours}, server {theirs}): a command or reply sent before the security exchange was altered or swallowed on the way, for example an AUTH refused by someone on the path to force a weaker mechanism.", reply);
            context?.Verbose?.Invoke($"DIGT: the server's record of the conversation matches ours ({ours}).");
        }

        public void Dispose() => _security.Dispose();
    }
}
