using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>The record of a control conversation that DIGT (the SafeTP paper, s.5.10) compares: every command line and
    /// every reply, in order, as the two ends saw them in plaintext (protected ones after decoding). An attacker who
    /// swallowed or altered an AUTH in the cleartext part makes the client's and the server's records differ.</summary>
    /// <remarks>Canonical form (docs/protocol/X-SafeTP1.md, "DIGT"): a command is "C " + line + CRLF; a reply is
    /// "R " + each line as <see cref="Rfc2228Lines.FormatReply"/> writes it + CRLF. The digest is SHA-256 of the
    /// concatenation, sent as 64 lower-case hex digits. Both ends start recording with the server's greeting.</remarks>
    public sealed class ControlTranscript
    {
        // A running SHA-256, not the text: memory stays flat however long the conversation (a pre-login flood).
        private readonly Org.BouncyCastle.Crypto.Digests.Sha256Digest _record = new Org.BouncyCastle.Crypto.Digests.Sha256Digest();
        private readonly object _gate = new object();

        /// <summary>Installs the recorder on a client control connection. Do it before the greeting is read.</summary>
        public static ControlTranscript AttachTo(FtpControlConnection control)
        {
            var transcript = new ControlTranscript();
            control.Transcript = transcript.Observe;
            return transcript;
        }

        /// <summary>The <see cref="FtpControlConnection.Transcript"/> callback: a command (reply null) or a reply.</summary>
        public void Observe(string commandLine, FtpReply? reply)
        {
            if (reply != null) RecordReply(reply.Code, reply.Lines);
            else RecordCommand(commandLine);
        }

        public void RecordCommand(string commandLine) => Append("C " + commandLine + "\r\n");

        public void RecordReply(int code, IReadOnlyList<string> lines)
        {
            var sb = new StringBuilder();
            foreach (var line in Rfc2228Lines.FormatReply(code, lines)) sb.Append("R ").Append(line).Append("\r\n");
            Append(sb.ToString());
        }

        private void Append(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            lock (_gate) _record.BlockUpdate(bytes, 0, bytes.Length);
        }

        /// <summary>SHA-256 of everything recorded so far, lower-case hex.</summary>
        public string ComputeDigest()
        {
            var hash = new byte[32];
            lock (_gate) new Org.BouncyCastle.Crypto.Digests.Sha256Digest(_record).DoFinal(hash, 0);
            var sb = new StringBuilder(hash.Length * 2);
            foreach (var b in hash) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }
    }
}
