using System;

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

        /// <summary>Rejects CR, LF and NUL in anything that goes into a command line: a path or argument
        /// with a line break would let a caller (or a hostile listing) inject a second command.</summary>
        public static string CheckArgument(string value, string what)
        {
            if (value.IndexOfAny(new[] { '\r', '\n', '\0' }) >= 0)
                throw new FtpException(FtpErrorKind.Protocol, "InvalidArgument", $"The {what} contains a line break or NUL, which FTP cannot carry: '{value.Replace("\r", "\\r").Replace("\n", "\\n")}'.");
            return value;
        }
    }
}
