namespace SecureFtp.Security
{
    /// <summary>How every mechanism reads the server's answer to AUTH, so the policy sees one meaning.</summary>
    public static class AuthReplies
    {
        /// <summary>True when the reply says this mechanism is not available here, so the next mechanism (or the
        /// fallback policy) gets its turn: RFC 2228's 504 (unknown mechanism), 534 (unwilling), 431 (resource
        /// unavailable), 500/502 from servers without AUTH (the SafeTP paper, s.4.2), and what real servers send instead
        /// (vsftpd with TLS off answers 530). 421 is not a refusal: the server is closing the connection.</summary>
        public static bool IsRefusal(FtpReply reply)
            => (reply.IsTransientNegative || reply.IsPermanentNegative) && reply.Code != 421;
    }
}
