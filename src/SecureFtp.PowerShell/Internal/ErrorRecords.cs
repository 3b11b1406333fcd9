using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace SecureFtp.PowerShell
{
    /// <summary>Turns failures into error records with a stable id and a category scripts can branch on.</summary>
    internal static class ErrorRecords
    {
        public static ErrorCategory CategoryOf(FtpErrorKind kind) => kind switch
        {
            FtpErrorKind.Authentication => ErrorCategory.SecurityError,
            FtpErrorKind.Security => ErrorCategory.SecurityError,
            FtpErrorKind.Policy => ErrorCategory.SecurityError,
            FtpErrorKind.Trust => ErrorCategory.SecurityError,
            FtpErrorKind.Timeout => ErrorCategory.OperationTimeout,
            FtpErrorKind.NotFound => ErrorCategory.ObjectNotFound,
            FtpErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
            FtpErrorKind.Connection => ErrorCategory.ConnectionError,
            FtpErrorKind.Protocol => ErrorCategory.ProtocolError,
            FtpErrorKind.Truncated => ErrorCategory.InvalidResult,
            FtpErrorKind.LocalIo => ErrorCategory.WriteError,
            FtpErrorKind.Cancelled => ErrorCategory.OperationStopped,
            FtpErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
            FtpErrorKind.NotSupported => ErrorCategory.NotImplemented,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>What a PowerShell user can do about an engine error, by error id. The engine says what happened in
        /// words any caller understands; the parameters that change the outcome are the cmdlets' business.</summary>
        private static readonly Dictionary<string, string> Hints = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["LocalFileExists"] = "Use -Force to overwrite it or -Resume to continue it.",
            ["RemoteFileExists"] = "Use -Force to overwrite it or -Resume to continue it.",
            ["SecurityNotAvailable"] = "Use -FallbackPolicy Warn or Allow, or -Mechanism None, to accept a cleartext session.",
            ["CertificateRejected"] = "If you trust this certificate, pin it with its fingerprint (-CertificateThumbprint, or Add-FtpTrustedKey -KeyType TLS). If the trust store pins another certificate for this host and the change is genuine, replace that pin (Remove-FtpTrustedKey -KeyType TLS, then Add-FtpTrustedKey).",
            ["KeaCredentialMissing"] = "Give one with -KeaCredential (New-SecureFtpKey -Type Kea makes one).",
            ["ServerKeyUntrusted"] = "If you trust this key, accept it with -AcceptKey or add it first with Add-FtpTrustedKey.",
            ["ServerKeyChanged"] = "Only after checking the new fingerprint with the server's administrator, remove the old key with Remove-FtpTrustedKey -ComputerName and connect again.",
            ["HashUnavailable"] = "Compare by -Criteria SizeAndTime or Size instead.",
            ["LocalPathIsFile"] = "-LocalPath names the folder to sync.",
            ["PasswordRequired"] = "Log in with a password through -Credential, or give the certificate the server maps (-ClientCertificate).",
            ["KeyFileExists"] = "Use -Force to replace it.",
            ["ElGamalKeyTooShort"] = "Make a longer client key with New-SecureFtpKey -Type SafeTpClient -Bits 2048 and give it with -ClientKey.",
        };

        /// <summary>The PowerShell hint for an error id, or null.</summary>
        public static string? HintFor(string errorId) => Hints.TryGetValue(errorId, out var hint) ? hint : null;

        public static ErrorRecord From(Exception error, object? target) => error switch
        {
            FtpException ftp => WithHint(new ErrorRecord(ftp, ftp.ErrorId, CategoryOf(ftp.Kind), target), ftp),
            FileNotFoundException or DirectoryNotFoundException => new ErrorRecord(error, "LocalPathNotFound", ErrorCategory.ObjectNotFound, target),
            UnauthorizedAccessException => new ErrorRecord(error, "LocalAccessDenied", ErrorCategory.PermissionDenied, target),
            IOException => new ErrorRecord(error, "LocalIoError", ErrorCategory.WriteError, target),
            TimeoutException => new ErrorRecord(error, "Timeout", ErrorCategory.OperationTimeout, target),
            ArgumentException => new ErrorRecord(error, "InvalidArgument", ErrorCategory.InvalidArgument, target),
            _ => new ErrorRecord(error, "UnexpectedError", ErrorCategory.NotSpecified, target),
        };

        /// <summary>Shows the hint after the engine's message, and as the record's recommended action.</summary>
        private static ErrorRecord WithHint(ErrorRecord record, FtpException error)
        {
            if (HintFor(error.ErrorId) is string hint)
                record.ErrorDetails = new ErrorDetails(error.Message + " " + hint) { RecommendedAction = hint };
            return record;
        }

        public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target)
            => new ErrorRecord(new InvalidOperationException(message), errorId, category, target);

        /// <summary>Failures that concern one item; anything else is a bug and stays an exception.</summary>
        public static bool IsReportable(Exception error)
            => error is FtpException or IOException or UnauthorizedAccessException or TimeoutException or ArgumentException;
    }
}
