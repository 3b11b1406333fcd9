using System;
using System.Collections.Generic;
using System.Text;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>The RFC 2228 line syntax shared by the client and the server halves: which protected command goes
    /// with which protected reply code, and how a reply is split into protected lines and put back together.</summary>
    /// <remarks>Multi-line replies are protected line by line, as krb5-appl's gssftp does and RFC 2228 s.4's
    /// "63z-" continuation allows: every line of the original reply, code and separator included ("230-Hello"),
    /// becomes one token, sent as "632-token" except the last, which is "632 token". The receiver decodes every
    /// line and parses the decoded lines as an ordinary RFC 959 reply.</remarks>
    public static class Rfc2228Lines
    {
        /// <summary>The protected command for a level: ENC (integrity and confidentiality), CONF (confidentiality),
        /// MIC (integrity).</summary>
        public static string CommandVerb(ControlProtectionLevel level) => level switch
        {
            ControlProtectionLevel.Integrity => "MIC",
            ControlProtectionLevel.Confidentiality => "CONF",
            _ => "ENC",
        };

        /// <summary>The reply code that answers a protected command: 631 to MIC, 633 to CONF, 632 to ENC.</summary>
        public static int ReplyCode(ControlProtectionLevel level) => level switch
        {
            ControlProtectionLevel.Integrity => 631,
            ControlProtectionLevel.Confidentiality => 633,
            _ => 632,
        };

        /// <summary>Maps a protected command verb back to its level; null when the verb is not MIC/CONF/ENC.</summary>
        public static ControlProtectionLevel? LevelOfVerb(string verb) => verb.ToUpperInvariant() switch
        {
            "MIC" => ControlProtectionLevel.Integrity,
            "CONF" => ControlProtectionLevel.Confidentiality,
            "ENC" => ControlProtectionLevel.Private,
            _ => (ControlProtectionLevel?)null,
        };

        /// <summary>The RFC 959 lines of a reply as they go on the wire, without CRLF: "230-first", "230-middle",
        /// "230 last". Every line carries the code so a decoded line is unambiguous.</summary>
        public static IReadOnlyList<string> FormatReply(int code, IReadOnlyList<string> lines)
        {
            if (code < 100 || code > 699) throw new ArgumentOutOfRangeException(nameof(code));
            if (lines.Count == 0) lines = new[] { string.Empty };
            var result = new string[lines.Count];
            for (int i = 0; i < lines.Count; i++)
            {
                FtpCommand.CheckArgument(lines[i], "reply text");
                result[i] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) + (i == lines.Count - 1 ? " " : "-") + lines[i];
            }
            return result;
        }

        /// <summary>Parses the decoded lines of a protected reply back into a reply. Strict: the first line must
        /// carry a code, every line but the last must be a continuation, and the last must end the reply.</summary>
        public static FtpReply ParseDecodedReply(IReadOnlyList<string> decodedLines, int protectedCode)
        {
            if (decodedLines.Count == 0 || !TryParseCode(decodedLines[0], out int code, out char sep))
                throw Malformed(protectedCode);
            var lines = new List<string>(decodedLines.Count);
            for (int i = 0; i < decodedLines.Count; i++)
            {
                string line = decodedLines[i];
                bool last = i == decodedLines.Count - 1;
                if (TryParseCode(line, out int c, out char s) && c == code)
                {
                    if (s == ' ' && !last) throw Malformed(protectedCode);
                    if (s == '-' && last) throw Malformed(protectedCode);
                    lines.Add(line.Length > 4 ? line.Substring(4) : string.Empty);
                }
                else if (i == 0 || last)
                    throw Malformed(protectedCode);
                else
                    lines.Add(line);
            }
            if (decodedLines.Count == 1 && sep != ' ') throw Malformed(protectedCode);
            return new FtpReply(code, lines, wasProtected: true);
        }

        private static bool TryParseCode(string line, out int code, out char sep) => FtpReplyReader.TryParseCode(line, out code, out sep);

        private static FtpException Malformed(int protectedCode) => new FtpException(FtpErrorKind.Security, "MalformedProtectedReply",
            $"A protected {protectedCode} reply decoded to something that is not a complete FTP reply; the control channel is no longer trustworthy.");

        /// <summary>Encodes one line through the mechanism's transform as RFC 2228 base64.</summary>
        internal static string Protect(ITransform transform, string line, Encoding encoding)
            => Convert.ToBase64String(transform.Encode(new ArraySegment<byte>(encoding.GetBytes(line))));

        /// <summary>Decodes one base64 token back into its line, refusing tokens that are not base64 or that
        /// decode to a line break (a token can never smuggle a second command or reply).</summary>
        internal static string Unprotect(ITransform transform, string base64, Encoding encoding, string what)
        {
            byte[] token;
            try { token = Convert.FromBase64String(base64.Trim()); }
            catch (FormatException e)
            {
                throw new FtpException(FtpErrorKind.Security, "MalformedProtectedToken", $"The {what} is not valid base64; it was altered on the way.", inner: e);
            }
            var line = encoding.GetString(transform.Decode(new ArraySegment<byte>(token)));
            if (line.IndexOfAny(new[] { '\r', '\n', '\0' }) >= 0)
                throw new FtpException(FtpErrorKind.Security, "MalformedProtectedToken", $"The {what} decoded to text with a line break or NUL.");
            return line;
        }
    }

    /// <summary>The command-channel protection of RFC 2228 s.3: MIC, CONF or ENC.</summary>
    public enum ControlProtectionLevel
    {
        /// <summary>MIC / 631: integrity only.</summary>
        Integrity,
        /// <summary>CONF / 633: confidentiality only.</summary>
        Confidentiality,
        /// <summary>ENC / 632: integrity and confidentiality.</summary>
        Private,
    }
}
