using System;
using System.Linq;
using System.Text;

namespace SecureFtp.Protocol
{
    /// <summary>Helpers for command lines: the verb, and a form safe to log or show in errors.</summary>
    public static class FtpCommand
    {
        public static string Verb(string line)
        {
            int sp = line.IndexOf(' ');
            return (sp < 0 ? line : line.Substring(0, sp)).ToUpperInvariant();
        }

        /// <summary>Hides the argument of PASS and ACCT so no credential reaches a log, a trace or an error.</summary>
        public static string Redact(string line)
        {
            var verb = Verb(line);
            return verb is "PASS" or "ACCT" ? verb + " ****" : line;
        }

        /// <summary>A command line as it may be shown (an error's target, a message): its first line only, with the
        /// argument of PASS and ACCT hidden, and a mark where more followed.</summary>
        public static string Describe(string line)
        {
            int cut = line.IndexOfAny(LineBreakOrNul);
            return cut < 0 ? Redact(line) : Redact(line.Substring(0, cut)) + " ...";
        }

        private static readonly char[] LineBreakOrNul = { '\r', '\n', '\0' };

        /// <summary>Rejects CR, LF and NUL in anything that goes into a command line: a path or argument
        /// with a line break would let a caller (or a hostile listing) inject a second command. The message shows a
        /// path (escaped), only the verb of a whole command line (its argument may be a password), and never a
        /// password, account or user name.</summary>
        public static string CheckArgument(string value, string what)
        {
            if (value.IndexOfAny(LineBreakOrNul) < 0) return value;
            if (what is "password" or "account" or "user name") throw CredentialRefused(what, "a line break or NUL");
            string verb = Verb(value.Split(LineBreakOrNul)[0]);
            string shown = what == "command"
                ? $" (a{(verb.Length is > 0 and <= 8 && verb.All(c => c >= 'A' && c <= 'Z') ? " " + verb : "")} command; its text is not shown, as it may hold a credential)"
                : $": '{value.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\0", "\\0")}'";
            throw new FtpException(FtpErrorKind.Protocol, "InvalidArgument", $"The {what} contains a line break or NUL, which FTP cannot carry{shown}.");
        }

        /// <summary>Checks a user name, password or account before anything is sent: RFC 959 s.5.3.2 makes USER, PASS
        /// and ACCT Telnet strings, one line each. A line break would end the command early and start another (an
        /// injected command, and a password cut in two); NUL cuts the string short in servers written in C (a weaker
        /// password than the user chose); byte 0xFF is the Telnet IAC escape (RFC 854), which a server may eat; a
        /// character the session's encoding cannot represent would be sent as '?'. Refused without echoing the value.</summary>
        public static void CheckCredential(string? value, string what, Encoding encoding)
        {
            if (string.IsNullOrEmpty(value)) return;
            if (value!.IndexOfAny(LineBreakOrNul) >= 0) throw CredentialRefused(what, "a line break or NUL");
            byte[] bytes;
            try
            {
                var strict = (Encoding)encoding.Clone();
                strict.EncoderFallback = EncoderFallback.ExceptionFallback;
                bytes = strict.GetBytes(value);
            }
            catch (EncoderFallbackException)
            {
                // The fallback exception names the character: it is not kept as the inner exception.
                throw CredentialRefused(what, $"a character the session's encoding ({encoding.WebName}) cannot represent");
            }
            if (Array.IndexOf(bytes, (byte)0xFF) >= 0)
                throw CredentialRefused(what, $"a character that the session's encoding ({encoding.WebName}) turns into byte 0xFF, the Telnet IAC escape (RFC 854)");
        }

        private static FtpException CredentialRefused(string what, string reason) =>
            new FtpException(FtpErrorKind.Authentication, "InvalidCredential",
                $"The {what} contains {reason}, which an FTP login cannot carry (RFC 959 s.5.3.2: USER, PASS and ACCT are one-line Telnet strings). " +
                $"Nothing was sent to the server, and the {what} is not shown.");
    }
}
