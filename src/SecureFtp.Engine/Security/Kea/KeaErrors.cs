using System;

namespace SecureFtp.Security.Kea
{
    /// <summary>The FtpExceptions KEA-SKIPJACK throws. Every message starts with the mechanism name so a user
    /// reading a log line knows which layer refused, and names what was wrong.</summary>
    internal static class KeaErrors
    {
        public const string Mechanism = "KEA-SKIPJACK";

        /// <summary>Tampering, replay, reordering, a bad key or a bad value from the peer.</summary>
        public static FtpException Security(string errorId, string reason, Exception? inner = null) =>
            new FtpException(FtpErrorKind.Security, errorId, $"{Mechanism}: {reason}", null, inner);

        /// <summary>The peer sent something that does not parse as the token the protocol defines.</summary>
        public static FtpException Malformed(string what, string reason) =>
            new FtpException(FtpErrorKind.Security, "KeaMalformedToken", $"{Mechanism}: malformed {what}: {reason}");

        /// <summary>An unknown or changed server key (same kind as X-SafeTP1's trust failures).</summary>
        public static FtpException Trust(string errorId, string reason) =>
            new FtpException(FtpErrorKind.Trust, errorId, $"{Mechanism}: {reason}");

        /// <summary>A call made in the wrong state of the exchange (a bug in the caller, not the peer).</summary>
        public static FtpException State(string reason) =>
            new FtpException(FtpErrorKind.Protocol, "KeaUnexpectedState", $"{Mechanism}: {reason}");
    }
}
