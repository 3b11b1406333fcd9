using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>What the server does with one line from the client, as <see cref="Rfc2228ServerNegotiation.Receive"/>
    /// decided it.</summary>
    public sealed class Rfc2228ServerStep
    {
        internal Rfc2228ServerStep(string? command, IReadOnlyList<string>? reply, bool close, bool wasProtected)
        {
            Command = command;
            Reply = reply;
            CloseConnection = close;
            WasProtected = wasProtected;
        }

        /// <summary>The plain command the server must execute itself (USER, RETR, AUTH TLS...), already decoded
        /// from ENC/MIC/CONF. Answer it through <see cref="Rfc2228ServerNegotiation.FormatReply(int, IReadOnlyList{string})"/>. Null when the
        /// negotiation answered the line itself.</summary>
        public string? Command { get; }

        /// <summary>Lines to send as they are (CRLF to append), already protected when they must be. Null when
        /// <see cref="Command"/> is set.</summary>
        public IReadOnlyList<string>? Reply { get; }

        /// <summary>Send <see cref="Reply"/>, then close the control connection (a protected command failed its
        /// check: someone on the path is tampering).</summary>
        public bool CloseConnection { get; }

        /// <summary>The command arrived inside MIC/CONF/ENC.</summary>
        public bool WasProtected { get; }
    }

    /// <summary>The server half of RFC 2228, socket-agnostic: lines in, lines out, and a stream wrapper for data
    /// connections. The embedded server and the SafeTP proxy feed it every line the client sends and format every
    /// reply through it; it answers AUTH (for the ADAT mechanisms it knows), ADAT, PBSZ, PROT, CCC (refused, the SafeTP paper
    /// s.6.5) and DIGT (s.5.10) itself and hands everything else back as a plain command.</summary>
    /// <remarks>
    /// Use:
    /// <code>
    /// var rfc = new Rfc2228ServerNegotiation(name => SafeTpMechanism.TryCreateServer(name, serverKey, localAddress, policy));
    /// Send(rfc.FormatReply(220, "Service ready"));          // the greeting is recorded for DIGT too
    /// foreach (line from client) {
    ///     var step = rfc.Receive(line);
    ///     if (step.Reply != null) { Send(step.Reply); if (step.CloseConnection) Close(); continue; }
    ///     var (code, text) = Execute(step.Command);          // the server's own command handling
    ///     Send(rfc.FormatReply(code, text));
    /// }
    /// // data connection: var data = rfc.OpenDataStream(networkStream);  (raw stream when PROT C)
    /// </code>
    /// AUTH for a mechanism the factory does not know (AUTH TLS, AUTH SSL) comes back as a Command; PBSZ, PROT and
    /// CCC come back as Commands too until an ADAT mechanism is established, so a TLS front end handles them.
    /// </remarks>
    public sealed class Rfc2228ServerNegotiation : IDisposable
    {
        /// <summary>Smallest PBSZ accepted: a block has to hold the mechanism's overhead and some data.</summary>
        public const int MinimumBufferSize = 512;

        private readonly Func<string, IRfc2228Security?> _createMechanism;
        private readonly Encoding _encoding;
        private IRfc2228Security? _mechanism;
        private bool _protectReplies;
        private ControlProtectionLevel _replyLevel = ControlProtectionLevel.Private;

        /// <param name="createMechanism">Returns the server half of the mechanism named by an AUTH argument, or
        /// null when this server does not offer it (the AUTH is then passed back as a Command).</param>
        /// <param name="encoding">The control connection's encoding for protected replies; null for UTF-8.</param>
        public Rfc2228ServerNegotiation(Func<string, IRfc2228Security?> createMechanism, Encoding? encoding = null)
        {
            _createMechanism = createMechanism;
            _encoding = encoding ?? new UTF8Encoding(false);
        }

        /// <summary>What DIGT digests: every command received and reply formatted, from the greeting on.</summary>
        public ControlTranscript Transcript { get; } = new ControlTranscript();

        /// <summary>The ADAT mechanism in negotiation or established; null before AUTH.</summary>
        public IRfc2228Security? Mechanism => _mechanism;

        /// <summary>True once the 235 was sent: commands must now be protected and every reply is.</summary>
        public bool IsEstablished => _protectReplies;

        /// <summary>The PBSZ agreed, or null before PBSZ.</summary>
        public int? BufferSize { get; private set; }

        /// <summary>The PROT level in force for the next data connection.</summary>
        public DataProtectionLevel DataProtection { get; private set; } = DataProtectionLevel.Clear;

        /// <summary>Details of the agreed mechanism for logs and Get-SecureFtpServer.</summary>
        public SecurityDetails? Details => _mechanism?.Details;

        public Rfc2228ServerStep Receive(string wireLine)
        {
            FtpCommand.CheckArgument(wireLine, "command");
            string verb = FtpCommand.Verb(wireLine);
            string line = wireLine;
            bool wasProtected = false;
            var level = Rfc2228Lines.LevelOfVerb(verb);
            if (_protectReplies)
            {
                if (level == null)
                {
                    Transcript.RecordCommand(wireLine);
                    return Answer(533, $"{verb} must be sent protected (ENC) on this control connection.");
                }
                try
                {
                    line = Rfc2228Lines.Unprotect(_mechanism!, Argument(wireLine), _encoding, $"{verb} command");
                }
                catch (FtpException e)
                {
                    // A protected command that fails its check was forged, replayed or altered: stop talking.
                    return new Rfc2228ServerStep(null, FormatReply(535, "Failed security check: " + e.Message), close: true, wasProtected: true);
                }
                _replyLevel = level.Value;
                wasProtected = true;
                verb = FtpCommand.Verb(line);
            }
            else if (level != null)
            {
                Transcript.RecordCommand(wireLine);
                return Answer(503, $"{verb} needs an established security mechanism (AUTH and ADAT first).");
            }

            if (verb == "DIGT")
            {
                // The SafeTP paper, s.5.10: the digest covers everything up to, not including, the DIGT request itself.
                string digest = Transcript.ComputeDigest();
                Transcript.RecordCommand(line);
                return Answer(200, "DIGT=" + digest, wasProtected);
            }
            Transcript.RecordCommand(line);
            switch (verb)
            {
                case "AUTH": return Auth(line, wasProtected);
                case "ADAT": return Adat(line);
                case "PBSZ" when _protectReplies: return Pbsz(line);
                case "PROT" when _protectReplies: return Prot(line);
                case "CCC" when _protectReplies:
                    return Answer(534, $"CCC refused: {_mechanism!.MechanismName} keeps the control channel protected for the whole session.", true);
                default:
                    return new Rfc2228ServerStep(line, null, close: false, wasProtected);
            }
        }

        /// <summary>Formats a reply for the wire: plain RFC 959 lines before the 235, protected 631/632/633 lines
        /// after it (one token per line, "632-" on all but the last). Records it for DIGT.</summary>
        public IReadOnlyList<string> FormatReply(int code, params string[] lines) => FormatReply(code, (IReadOnlyList<string>)lines);

        public IReadOnlyList<string> FormatReply(int code, IReadOnlyList<string> lines)
        {
            var plain = Rfc2228Lines.FormatReply(code, lines);
            Transcript.RecordReply(code, lines.Count == 0 ? new[] { string.Empty } : lines);
            if (!_protectReplies) return plain;
            int protectedCode = Rfc2228Lines.ReplyCode(_replyLevel);
            var wire = new string[plain.Count];
            for (int i = 0; i < plain.Count; i++)
                wire[i] = protectedCode.ToString(CultureInfo.InvariantCulture) + (i == plain.Count - 1 ? " " : "-")
                    + Rfc2228Lines.Protect(_mechanism!, plain[i], _encoding);
            return wire;
        }

        /// <summary>Wraps a data connection for the PROT level in force: the raw stream for PROT C, otherwise a
        /// <see cref="ProtectedDataStream"/> bounded by the agreed PBSZ.</summary>
        public Stream OpenDataStream(Stream raw)
        {
            if (DataProtection == DataProtectionLevel.Clear || _mechanism == null) return raw;
            var level = DataProtection;
            var mechanism = _mechanism;
            return new ProtectedDataStream(raw, () => mechanism.CreateDataTransform(level, sending: true),
                () => mechanism.CreateDataTransform(level, sending: false), BufferSize ?? mechanism.MaxBufferSize);
        }

        private Rfc2228ServerStep Auth(string line, bool wasProtected)
        {
            string name = Argument(line);
            if (_protectReplies)
                return Answer(503, $"A security mechanism ({_mechanism!.MechanismName}) is already in place.", wasProtected);
            var mechanism = _createMechanism(name);
            if (mechanism == null) return new Rfc2228ServerStep(line, null, close: false, wasProtected);
            _mechanism?.Dispose();
            _mechanism = mechanism;
            if (mechanism.HasOutgoingAdat)
                return Answer(334, "ADAT=" + Convert.ToBase64String(mechanism.GetNextOutgoingAdat()));
            return Answer(334, $"Using {mechanism.MechanismName}; send ADAT.");
        }

        private Rfc2228ServerStep Adat(string line)
        {
            if (_mechanism == null || _protectReplies)
                return Answer(503, _protectReplies ? "The security exchange is already complete." : "Send AUTH first.", _protectReplies);
            byte[] data;
            try { data = Convert.FromBase64String(Argument(line)); }
            catch (FormatException) { return Answer(501, "ADAT data is not valid base64."); }
            try
            {
                _mechanism.IncomingAdat(data);
            }
            catch (FtpException e)
            {
                // RFC 2228: 535 on a failed exchange; the client may start over with AUTH.
                _mechanism.Dispose();
                _mechanism = null;
                return Answer(535, "Failed security check: " + e.Message);
            }
            string adat = _mechanism.HasOutgoingAdat ? "ADAT=" + Convert.ToBase64String(_mechanism.GetNextOutgoingAdat()) : "";
            if (_mechanism.IsEstablished)
            {
                var reply = Answer(235, adat.Length > 0 ? adat : $"{_mechanism.MechanismName} security data exchange complete.");
                _protectReplies = true;
                return reply;
            }
            return Answer(335, adat.Length > 0 ? adat : "ADAT accepted; send more.");
        }

        private Rfc2228ServerStep Pbsz(string line)
        {
            if (!int.TryParse(Argument(line), NumberStyles.None, CultureInfo.InvariantCulture, out int proposed) || proposed < MinimumBufferSize)
                return Answer(501, $"PBSZ needs a decimal size of at least {MinimumBufferSize}.", true);
            int agreed = Math.Min(proposed, _mechanism!.MaxBufferSize);
            BufferSize = agreed;
            return Answer(200, "PBSZ=" + agreed.ToString(CultureInfo.InvariantCulture), true);
        }

        private Rfc2228ServerStep Prot(string line)
        {
            if (BufferSize == null) return Answer(503, "PBSZ must come before PROT.", true);
            string arg = Argument(line).ToUpperInvariant();
            DataProtectionLevel level;
            switch (arg)
            {
                case "C": level = DataProtectionLevel.Clear; break;
                case "S": level = DataProtectionLevel.Safe; break;
                case "E": level = DataProtectionLevel.Confidential; break;
                case "P": level = DataProtectionLevel.Private; break;
                default: return Answer(504, $"PROT {arg} is not a protection level (C, S, E or P).", true);
            }
            if (level != DataProtectionLevel.Clear && !_mechanism!.Supports(level))
                return Answer(536, $"{_mechanism.MechanismName} does not offer PROT {arg}.", true);
            DataProtection = level;
            return Answer(200, $"Protection level set to {arg}.", true);
        }

        private Rfc2228ServerStep Answer(int code, string text, bool wasProtected = false)
            => new Rfc2228ServerStep(null, FormatReply(code, text), close: false, wasProtected);

        private static string Argument(string line)
        {
            int sp = line.IndexOf(' ');
            return sp < 0 ? string.Empty : line.Substring(sp + 1).Trim();
        }

        public void Dispose() => _mechanism?.Dispose();
    }
}
