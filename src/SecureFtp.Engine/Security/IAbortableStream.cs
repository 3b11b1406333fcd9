namespace SecureFtp.Security
{
    /// <summary>A protected data stream that can be closed without telling the peer the transfer is complete.
    /// A normal close says "complete" (TLS close_notify, RFC 2228's end-of-file block); after a cancel or a
    /// failure half-way, that would make the server keep a partial upload as if it were whole.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
        Justification = "Implemented by the data streams (Stream subclasses), so the suffix says what it is; renaming a public type would break callers.")]
    public interface IAbortableStream
    {
        /// <summary>The next Dispose closes the connection without the end-of-transfer signal.</summary>
        void Abort();
    }
}
