using System.Collections.Generic;
using System.Text;
using SecureFtp.Protocol;

namespace SecureFtp.Security.Rfc2228
{
    /// <summary>The client's command-channel protection once an ADAT mechanism is established: every command goes
    /// out as "ENC token" (or MIC/CONF), every reply must come back as 631/632/633 and is decoded line by line.</summary>
    public sealed class Rfc2228ControlProtection : IControlChannelProtection
    {
        private readonly ITransform _transform;
        private readonly Encoding _encoding;
        private readonly int _replyCode;
        private readonly string _verb;

        public Rfc2228ControlProtection(ITransform transform, ControlProtectionLevel level, Encoding encoding)
        {
            _transform = transform;
            _encoding = encoding;
            Level = level;
            _verb = Rfc2228Lines.CommandVerb(level);
            _replyCode = Rfc2228Lines.ReplyCode(level);
        }

        public ControlProtectionLevel Level { get; }

        public bool RequireProtectedReplies => true;

        public string ProtectCommand(string commandLine) => _verb + " " + Rfc2228Lines.Protect(_transform, commandLine, _encoding);

        public FtpReply UnprotectReply(FtpReply protectedReply)
        {
            if (protectedReply.Code != _replyCode)
                throw new FtpException(FtpErrorKind.Security, "UnexpectedProtectionLevel",
                    $"The server answered a {_verb} command with a {protectedReply.Code} reply instead of {_replyCode}.", protectedReply);
            var decoded = new List<string>(protectedReply.Lines.Count);
            foreach (var line in protectedReply.Lines)
                decoded.Add(Rfc2228Lines.Unprotect(_transform, line, _encoding, $"protected {_replyCode} reply"));
            return Rfc2228Lines.ParseDecodedReply(decoded, _replyCode);
        }
    }
}
