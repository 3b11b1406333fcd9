using System;
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

        public static ErrorRecord From(Exception error, object? target) => error switch
        {
            FtpException ftp => new ErrorRecord(ftp, ftp.ErrorId, CategoryOf(ftp.Kind), target),
            FileNotFoundException or DirectoryNotFoundException => new ErrorRecord(error, "LocalPathNotFound", ErrorCategory.ObjectNotFound, target),
            UnauthorizedAccessException => new ErrorRecord(error, "LocalAccessDenied", ErrorCategory.PermissionDenied, target),
            IOException => new ErrorRecord(error, "LocalIoError", ErrorCategory.WriteError, target),
            TimeoutException => new ErrorRecord(error, "Timeout", ErrorCategory.OperationTimeout, target),
            ArgumentException => new ErrorRecord(error, "InvalidArgument", ErrorCategory.InvalidArgument, target),
            _ => new ErrorRecord(error, "UnexpectedError", ErrorCategory.NotSpecified, target),
        };

        public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target)
            => new ErrorRecord(new InvalidOperationException(message), errorId, category, target);

        /// <summary>Failures that concern one item; anything else is a bug and stays an exception.</summary>
        public static bool IsReportable(Exception error)
            => error is FtpException or IOException or UnauthorizedAccessException or TimeoutException or ArgumentException;
    }
}
