namespace SecureFtp.Protocol
{
    /// <summary>RFC 2228 command-channel protection installed by an ADAT mechanism once it is established:
    /// commands go out as MIC/CONF/ENC, and 631/632/633 replies are decoded back into plain replies.
    /// TLS does not use this: it protects the transport itself (see <see cref="FtpControlConnection.ReplaceTransport"/>).</summary>
    public interface IControlChannelProtection
    {
        /// <summary>Wraps one command line (without CRLF) into the line to send, e.g. "ENC base64".</summary>
        string ProtectCommand(string commandLine);

        /// <summary>Decodes a 631/632/633 reply into the reply it carries. Throws an
        /// <see cref="FtpException"/> of kind Security when the reply fails its integrity check.</summary>
        FtpReply UnprotectReply(FtpReply protectedReply);

        /// <summary>True when a plain (non-63x) reply must be refused: after protection is on, a cleartext
        /// reply can only have been injected by someone on the path.</summary>
        bool RequireProtectedReplies { get; }
    }
}
