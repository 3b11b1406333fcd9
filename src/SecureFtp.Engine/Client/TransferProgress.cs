using System;

namespace SecureFtp
{
    /// <summary>Progress of one transfer, reported through IProgress at most every few hundred ms.</summary>
    public sealed class TransferProgress
    {
        public TransferProgress(string remotePath, long bytesTransferred, long? totalBytes, TimeSpan elapsed)
        {
            RemotePath = remotePath;
            BytesTransferred = bytesTransferred;
            TotalBytes = totalBytes;
            Elapsed = elapsed;
        }

        public string RemotePath { get; }
        public long BytesTransferred { get; }
        public long? TotalBytes { get; }
        public TimeSpan Elapsed { get; }

        public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesTransferred / Elapsed.TotalSeconds : 0;

        public int? PercentComplete => TotalBytes is long t && t > 0 ? (int)Math.Min(100, BytesTransferred * 100 / t) : null;

        public TimeSpan? Remaining => TotalBytes is long t && BytesPerSecond > 0 ? TimeSpan.FromSeconds((t - BytesTransferred) / BytesPerSecond) : null;
    }

    /// <summary>The result of one completed transfer.</summary>
    public sealed class TransferResult
    {
        public string RemotePath { get; set; } = "";
        public string? LocalPath { get; set; }
        public long Bytes { get; set; }
        public TimeSpan Elapsed { get; set; }
        public bool Resumed { get; set; }
        public long StartOffset { get; set; }
    }
}
