namespace SecureFtp.Security
{
    /// <summary>A protected data connection ended without the mechanism's end-of-transfer signal (TLS: close_notify).
    /// A data stream throws it from Read instead of returning 0, so a cut transfer is never taken for a complete one;
    /// the client then judges the end once the server's completion reply is in (the byte count the server announced,
    /// or <see cref="ISecuritySession.AcceptsUnsignalledDataEnd"/>).</summary>
    public class UnsignalledEndException : FtpException
    {
        /// <param name="signal">The signal that did not come, as a user knows it: "a TLS close_notify".</param>
        /// <param name="message">What happened to the transfer, for the user.</param>
        public UnsignalledEndException(string signal, string message) : base(FtpErrorKind.Truncated, "TransferTruncated", message)
        {
            Signal = signal;
        }

        /// <summary>The missing signal, for messages: "a TLS close_notify".</summary>
        public string Signal { get; }
    }
}
