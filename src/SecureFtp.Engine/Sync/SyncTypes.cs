using System;
using System.Collections.Generic;
using SecureFtp.Listing;

namespace SecureFtp.Sync
{
    /// <summary>Which side is the source: Download makes the local tree like the remote one, Upload the reverse.</summary>
    public enum SyncDirection { Download, Upload }

    /// <summary>How a file present on both sides is judged to be in step.</summary>
    public enum SyncCriteria
    {
        /// <summary>Same size and the same modification time to the second (FTP times are whole seconds, UTC).</summary>
        SizeAndTime,
        /// <summary>Same size.</summary>
        Size,
        /// <summary>Same size and the same content digest: the server's HASH (draft-bryan-ftpext-hash) or
        /// XSHA256/XSHA1/XMD5 against the local file's. Where the server has none, each such file is an error.</summary>
        Hash,
    }

    /// <summary>What a sync does (or did) with one path.</summary>
    public enum SyncActionType { Download, Upload, Delete, Skip, Error }

    /// <summary>What one sync job is asked to do.</summary>
    public sealed class SyncOptions
    {
        public string RemotePath { get; set; } = "";
        public string LocalPath { get; set; } = "";
        public SyncDirection Direction { get; set; } = SyncDirection.Download;
        public SyncCriteria Criteria { get; set; } = SyncCriteria.SizeAndTime;

        /// <summary>Remove what the source side no longer has, below the synced roots only.</summary>
        public bool Delete { get; set; }

        /// <summary>Wildcards (*, ?, [a-z]) for the files taken; none means all. A pattern with '/' matches the
        /// path relative to the root, any other the file name. Case-insensitive.</summary>
        public IList<string> Include { get; set; } = new List<string>();

        /// <summary>Wildcards for files and directories left alone: neither transferred nor deleted.</summary>
        public IList<string> Exclude { get; set; } = new List<string>();

        /// <summary>Sessions to transfer over at once (the given one and ThrottleLimit - 1 more like it).</summary>
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>The deepest directory level walked: a hostile server can offer an endless tree.</summary>
        public int MaxDepth { get; set; } = 64;

        /// <summary>The most entries one job takes from the two trees together, so a listing cannot exhaust memory.</summary>
        public int MaxEntries { get; set; } = 2_000_000;
    }

    /// <summary>One action of a sync job: planned (Bytes is the size to move) or done (Bytes moved).</summary>
    public sealed class SyncAction
    {
        public SyncAction(SyncActionType action, string path, string remotePath, string localPath, long bytes, string reason)
        {
            Action = action; Path = path; RemotePath = remotePath; LocalPath = localPath; Bytes = bytes; Reason = reason;
        }

        public SyncActionType Action { get; internal set; }

        /// <summary>The path relative to the synced roots, '/'-separated, as the names arrived (raw).</summary>
        public string Path { get; }

        /// <summary>The path as a format view shows it: control characters and bidirectional overrides from a
        /// server's names replaced (see <see cref="TerminalText"/>).</summary>
        public string DisplayPath => TerminalText.Sanitize(Path);

        public string RemotePath { get; }

        /// <summary>The local path; empty for an entry whose name could not become one.</summary>
        public string LocalPath { get; }

        public long Bytes { get; internal set; }
        public string Reason { get; internal set; }

        /// <summary>For Error: the error id scripts branch on (e.g. UnsafeRemoteName, HashUnavailable).</summary>
        public string? ErrorId => Exception switch
        {
            null => null,
            FtpException ftp => ftp.ErrorId,
            // The ids Sync-FtpDirectory's error records carry for local failures (ErrorRecords in the module).
            System.IO.FileNotFoundException or System.IO.DirectoryNotFoundException => "LocalPathNotFound",
            UnauthorizedAccessException => "LocalAccessDenied",
            System.IO.IOException => "LocalIoError",
            var other => other.GetType().Name,
        };

        /// <summary>For Error: what went wrong.</summary>
        public Exception? Exception { get; internal set; }

        /// <summary>True for a directory (created or deleted as a whole, never transferred).</summary>
        public bool IsDirectory { get; internal set; }

        /// <summary>The source file's modification time (UTC), for the target to take.</summary>
        internal DateTime? SourceTime { get; set; }

        /// <summary>Marks the action failed, keeping what it was meant to do in the reason.</summary>
        internal SyncAction Failed(Exception e)
        {
            Reason = $"{Action} failed: {e.Message}";
            Action = SyncActionType.Error;
            Exception = e;
            return this;
        }

        internal static SyncAction Refused(string path, string remotePath, string localPath, Exception e)
            => new SyncAction(SyncActionType.Error, path, remotePath, localPath, 0, e.Message) { Exception = e };

        public override string ToString() => $"{Action} {DisplayPath}";
    }

    /// <summary>Progress over a whole job.</summary>
    public sealed class SyncProgress
    {
        public SyncProgress(int filesDone, int filesTotal, long bytesDone, long bytesTotal, TimeSpan elapsed, string? current)
        {
            FilesDone = filesDone; FilesTotal = filesTotal; BytesDone = bytesDone; BytesTotal = bytesTotal; Elapsed = elapsed; Current = current;
        }

        public int FilesDone { get; }
        public int FilesTotal { get; }
        public long BytesDone { get; }
        public long BytesTotal { get; }
        public TimeSpan Elapsed { get; }
        public string? Current { get; }
        public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesDone / Elapsed.TotalSeconds : 0;
        public int PercentComplete => BytesTotal > 0 ? (int)Math.Min(100, BytesDone * 100 / BytesTotal) : FilesTotal > 0 ? FilesDone * 100 / FilesTotal : 100;
        public TimeSpan? Remaining => BytesPerSecond > 0 ? TimeSpan.FromSeconds(Math.Max(0, BytesTotal - BytesDone) / BytesPerSecond) : null;
    }
}
