using System;

namespace SecureFtp
{
    /// <summary>What kind of failure an <see cref="FtpException"/> reports. The cmdlets map each kind to
    /// a PowerShell ErrorCategory, so scripts can branch on it without parsing messages.</summary>
    public enum FtpErrorKind
    {
        Protocol,          // malformed or unexpected reply, hostile input
        Connection,        // TCP connect/reset/closed
        Timeout,           // any wait ran out
        Authentication,    // login refused (530), bad credential
        NotFound,          // 550 on a path, missing local file
        PermissionDenied,  // 550/553 that says so, local access denied
        Security,          // TLS/mechanism failure, tampering, integrity failure, certificate rejected
        Policy,            // the user's security policy was not met (fallback refused, PROT P refused...)
        Trust,             // unknown or changed server key
        Truncated,         // transfer ended early (no close_notify, short length)
        LocalIo,           // local disk error (full disk, ...)
        Cancelled,         // user stopped the operation
        AlreadyExists,     // target exists and overwrite was not allowed
        NotSupported,      // server lacks a feature the user asked for
    }

    /// <summary>The one exception type the engine throws for FTP failures.</summary>
    public class FtpException : Exception
    {
        public FtpErrorKind Kind { get; }

        /// <summary>The server reply behind the failure, when there was one.</summary>
        public FtpReply? Reply { get; }

        /// <summary>A stable identifier, used as the PowerShell error id (e.g. "CertificateRejected").</summary>
        public string ErrorId { get; }

        /// <remarks>The message is made safe to show: most messages quote a server's reply, a path or a name from the
        /// server, and a hostile server can put terminal escape sequences there (retitle the window, hide text, fake a
        /// prompt). Control characters become visible symbols (<see cref="Listing.TerminalText"/>); line breaks stay.
        /// <see cref="Reply"/> keeps the reply exactly as it came.</remarks>
        public FtpException(FtpErrorKind kind, string errorId, string message, FtpReply? reply = null, Exception? inner = null)
            : base(Displayable(message), inner)
        {
            Kind = kind;
            ErrorId = errorId;
            Reply = reply;
        }

        /// <summary>Builds the right exception for a negative reply to <paramref name="command"/>.</summary>
        public static FtpException FromReply(string command, FtpReply reply, string? target = null)
        {
            // Never echo credentials back into an error message.
            string verb = Protocol.FtpCommand.Verb(command);
            string shown = Protocol.FtpCommand.Redact(command);
            string what = target != null ? $"{verb} {target}" : shown;
            var kind = reply.Code switch
            {
                530 or 332 => FtpErrorKind.Authentication,
                421 => FtpErrorKind.Connection,
                534 or 521 or 522 or 536 => FtpErrorKind.Policy,
                533 or 535 or 537 or 631 or 632 or 633 => FtpErrorKind.Security,
                502 or 504 or 500 => FtpErrorKind.NotSupported,
                550 or 450 when LooksLikePermission(reply.Message) => FtpErrorKind.PermissionDenied,
                550 or 450 => FtpErrorKind.NotFound,
                553 => FtpErrorKind.PermissionDenied,
                452 or 552 => FtpErrorKind.LocalIo,
                _ => FtpErrorKind.Protocol,
            };
            string id = kind switch
            {
                FtpErrorKind.Authentication => "LoginRefused",
                FtpErrorKind.NotFound => "RemotePathNotFound",
                FtpErrorKind.PermissionDenied => "RemoteAccessDenied",
                FtpErrorKind.NotSupported => "CommandNotSupported",
                FtpErrorKind.Policy => "SecurityPolicyNotMet",
                FtpErrorKind.Security => "SecurityFailure",
                FtpErrorKind.Connection => "ServiceUnavailable",
                FtpErrorKind.LocalIo => "RemoteStorageFull",
                _ => "UnexpectedReply",
            };
            return new FtpException(kind, id, $"{what} failed: the server replied {reply.Code} {reply.Message}", reply);
        }

        /// <summary>Text for a terminal: each line through <see cref="Listing.TerminalText.Sanitize"/>, the line breaks kept.</summary>
        public static string Displayable(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text ?? "";
            if (text!.IndexOf('\n') < 0) return Listing.TerminalText.Sanitize(text);
            var lines = text.Replace("\r\n", "\n").Split('\n');
            for (int i = 0; i < lines.Length; i++) lines[i] = Listing.TerminalText.Sanitize(lines[i]);
            return string.Join("\n", lines);
        }

        private static bool LooksLikePermission(string message)
        {
            var m = message.ToLowerInvariant();
            return m.Contains("permission") || m.Contains("denied") || m.Contains("not allowed");
        }
    }
}
