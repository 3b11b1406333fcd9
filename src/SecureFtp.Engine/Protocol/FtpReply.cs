using System;
using System.Collections.Generic;
using System.Linq;

namespace SecureFtp
{
    /// <summary>One complete server reply (RFC 959 s.4.2): a three-digit code and one or more lines.</summary>
    public sealed class FtpReply
    {
        public int Code { get; }

        /// <summary>The text lines with the code and separator removed from the first and last line.</summary>
        public IReadOnlyList<string> Lines { get; }

        /// <summary>True when the reply arrived protected (631/632/633) and was decoded by the mechanism.</summary>
        public bool WasProtected { get; }

        public FtpReply(int code, IReadOnlyList<string> lines, bool wasProtected = false)
        {
            if (code < 100 || code > 699) throw new ArgumentOutOfRangeException(nameof(code));
            Code = code;
            Lines = lines.Count == 0 ? new[] { string.Empty } : lines;
            WasProtected = wasProtected;
        }

        public FtpReply WithProtected() => new FtpReply(Code, Lines, true);

        /// <summary>The whole text, lines joined with newlines.</summary>
        public string Message => string.Join("\n", Lines);

        /// <summary><see cref="Message"/> made safe to show on a terminal: control characters (escape sequences a hostile
        /// server may send) become visible symbols. For display only; <see cref="Message"/> keeps the raw text.</summary>
        public string DisplayMessage => FtpException.Displayable(Message);

        /// <summary>The last line of text; the part RFC 959 says a client acts on.</summary>
        public string LastLine => Lines[Lines.Count - 1];

        public bool IsPreliminary => Code / 100 == 1;
        public bool IsCompletion => Code / 100 == 2;
        public bool IsIntermediate => Code / 100 == 3;
        public bool IsTransientNegative => Code / 100 == 4;
        public bool IsPermanentNegative => Code / 100 == 5;
        public bool IsProtected => Code / 100 == 6;
        public bool IsSuccess => IsCompletion || IsIntermediate || IsPreliminary;

        /// <summary>The base64 data after "ADAT=" (RFC 2228 s.4 replies 235/334/335), or null.</summary>
        public byte[]? AdatData
        {
            get
            {
                foreach (var line in Lines)
                {
                    int i = line.IndexOf("ADAT=", StringComparison.Ordinal);
                    if (i < 0) continue;
                    var rest = line.Substring(i + 5).Trim();
                    int sp = rest.IndexOf(' ');
                    if (sp >= 0) rest = rest.Substring(0, sp);
                    try { return Convert.FromBase64String(rest); }
                    catch (FormatException e)
                    {
                        throw new FtpException(FtpErrorKind.Protocol, "MalformedAdat", $"The server's ADAT data in reply {Code} is not valid base64.", this, e);
                    }
                }
                return null;
            }
        }

        public override string ToString() => Lines.Count == 1
            ? $"{Code} {Lines[0]}"
            : string.Join("\n", Lines.Select((l, i) => i == 0 ? $"{Code}-{l}" : i == Lines.Count - 1 ? $"{Code} {l}" : " " + l));
    }
}
