using System;
using System.Buffers;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp
{
    // File transfers: streaming RETR/STOR/APPE with REST, and the safe local-file wrappers.
    public sealed partial class FtpClient
    {
        private readonly SemaphoreSlim _operation = new SemaphoreSlim(1, 1);

        /// <summary>Runs one operation at a time on this session; the control connection carries one conversation.</summary>
        private async Task<T> Exclusive<T>(Func<Task<T>> op, CancellationToken ct)
        {
            await _operation.WaitAsync(ct).ConfigureAwait(false);
            try { return await op().ConfigureAwait(false); }
            finally { _operation.Release(); }
        }

        private Task<long> DownloadCoreAsync(string remotePath, Stream destination, long offset, IProgress<TransferProgress>? progress, CancellationToken ct)
            => Exclusive(async () => (await DownloadUnlockedAsync(remotePath, destination, offset, expectedLength: null, progress, ct).ConfigureAwait(false)).Bytes, ct);

        /// <returns>The bytes received, and the reply to <paramref name="alongside"/> (a query sent with the
        /// transfer's commands, see <see cref="OpenDataTransferAsync"/>).</returns>
        private async Task<(long Bytes, FtpReply? Alongside)> DownloadUnlockedAsync(string remotePath, Stream destination, long offset, long? expectedLength,
            IProgress<TransferProgress>? progress, CancellationToken ct, string? alongside = null)
        {
            FtpCommand.CheckArgument(remotePath, "remote path");
            await EnsureBinaryAsync(ct).ConfigureAwait(false);
            var transfer = await OpenDataTransferAsync("RETR " + remotePath, offset, ct, alongside).ConfigureAwait(false);
            if (offset == 0 && AnnouncedLength(transfer.Preliminary) is long announced)
            {
                _retrAnnouncesSize = true;
                expectedLength ??= announced;
            }
            long total = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(TransferBufferSize);
            var clock = Stopwatch.StartNew();
            var reporter = new ProgressThrottle(progress, remotePath, expectedLength, offset);
            try
            {
                await RunTransferAsync(transfer, async _ =>
                {
                    while (true)
                    {
                        int n = await ReadDataAsync(transfer, buffer, ct).ConfigureAwait(false);
                        if (n == 0) break;
                        try
                        {
                            await destination.WriteAsync(buffer, 0, n, ct).ConfigureAwait(false);
                        }
                        catch (IOException e)
                        {
                            throw new FtpException(FtpErrorKind.LocalIo, "LocalWriteFailed", $"Writing the download of {remotePath} failed after {total} bytes: {e.Message}", inner: e);
                        }
                        total += n;
                        reporter.Report(offset + total, clock.Elapsed);
                    }
                }, ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            CheckUnsignalledEnd(transfer, remotePath, expectedLength, offset + total);
            reporter.Complete(offset + total, clock.Elapsed);
            if (expectedLength is long expected && offset + total != expected)
                throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated",
                    $"The download of {remotePath} ended at byte {offset + total}, but the server said the file has {expected} bytes.");
            return (total, transfer.AlongsideReply);
        }

        private static readonly System.Text.RegularExpressions.Regex AnnouncedBytes =
            new System.Text.RegularExpressions.Regex(@"\((\d+) bytes\)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>True once this server announced a file's size in its 150 reply to RETR: fresh downloads then skip
        /// SIZE, a round trip per file that would tell them nothing more.</summary>
        private bool _retrAnnouncesSize;

        /// <summary>The size a 150 reply announces, "(4096 bytes)" (vsftpd, proftpd, inetutils), as curl reads it:
        /// the length check for servers without SIZE.</summary>
        private static long? AnnouncedLength(FtpReply? preliminary)
        {
            var m = preliminary == null ? null : AnnouncedBytes.Match(preliminary.Message);
            return m is { Success: true } && long.TryParse(m.Groups[1].Value, out long n) ? n : null;
        }

        /// <summary>A read on the data connection, with the data timeout per read.</summary>
        private async Task<int> ReadDataAsync(DataTransfer transfer, byte[] buffer, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Options.DataTimeout);
            try
            {
                return await transfer.Stream!.ReadAsync(buffer, 0, buffer.Length, cts.Token).ConfigureAwait(false);
            }
            catch (Security.UnsignalledEndException e)
            {
                // An end without the mechanism's end signal: judged by CheckUnsignalledEnd once the server's reply is in.
                transfer.UnsignalledEnd = e;
                return 0;
            }
            catch (Exception e) when (e is OperationCanceledException && !ct.IsCancellationRequested)
            {
                throw new FtpException(FtpErrorKind.Timeout, "DataTimeout", $"No data from {Options.Host} for {Options.DataTimeout.TotalSeconds:0} s.", inner: e);
            }
            catch (IOException e)
            {
                throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated", $"The data connection from {Options.Host} broke: {e.Message}", inner: e);
            }
        }

        private async Task<TransferResult> DownloadFileCoreAsync(string remotePath, string localPath, bool resume, bool overwrite, IProgress<TransferProgress>? progress, CancellationToken ct)
        {
            return await Exclusive(async () =>
            {
                string final = Path.GetFullPath(localPath);
                string part = final + ".part";
                if (Directory.Exists(final))
                    throw new FtpException(FtpErrorKind.AlreadyExists, "DestinationIsDirectory", $"The destination {final} is a directory; name a file.");
                if (!overwrite && !resume && File.Exists(final))
                    throw new FtpException(FtpErrorKind.AlreadyExists, "LocalFileExists", $"{final} already exists; it is neither overwritten nor continued unless asked.");
                var dir = Path.GetDirectoryName(final);
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir!);

                // SIZE is the length check and the progress total. Where the server's 150 reply announces the size
                // (vsftpd, proftpd, inetutils-ftpd) a fresh download takes both from there; a resume must compare
                // lengths before it starts, so it always asks.
                long? remoteSize = resume || !_retrAnnouncesSize ? await GetSizeUnlockedAsync(remotePath, ct).ConfigureAwait(false) : null;
                long offset = 0;
                if (resume)
                {
                    // Continue a .part left by an earlier attempt, or a shorter file under the final name.
                    if (!File.Exists(part) && File.Exists(final)) File.Move(final, part);
                    offset = File.Exists(part) ? new FileInfo(part).Length : 0;
                    if (remoteSize is long rs && offset > rs)
                        throw new FtpException(FtpErrorKind.Protocol, "LocalFileLonger", $"Cannot resume: the local {part} has {offset} bytes but {remotePath} has only {rs}.");
                }
                var clock = Stopwatch.StartNew();
                long got = 0;
                FtpReply? mdtm = null;
                try
                {
                    using (var file = OpenLocalForWrite(part, offset))
                    {
                        // The remote time (MDTM) rides along with the transfer's commands where they are pipelined.
                        if (offset != remoteSize)
                            (got, mdtm) = await DownloadUnlockedAsync(remotePath, file, offset, remoteSize, progress, ct, alongside: "MDTM " + remotePath).ConfigureAwait(false);
                        try { await file.FlushAsync(ct).ConfigureAwait(false); }
                        catch (IOException e) { throw new FtpException(FtpErrorKind.LocalIo, "LocalWriteFailed", $"Could not finish writing {part}: {e.Message}", inner: e); }
                    }
                }
                catch when (offset == 0)
                {
                    // Nothing to resume from a fresh download that got no byte (RETR refused, e.g. a missing file):
                    // an empty .part would only be litter beside the files that did arrive. One with bytes stays for -Resume.
                    // Over an existing file the empty .part stays too: without it, -Resume would take the old file under
                    // the final name for a partial copy and append the new file's tail to it.
                    if (!File.Exists(final)) DeleteIfEmpty(part);
                    throw;
                }
                var modified = mdtm != null ? ModifiedTimeOf(mdtm) : await GetModifiedTimeUnlockedAsync(remotePath, ct).ConfigureAwait(false);
                if (modified is DateTime m) File.SetLastWriteTimeUtc(part, m);
#if NET
                File.Move(part, final, overwrite: true); // one rename(2): the final name never goes missing
#else
                if (File.Exists(final)) File.Delete(final);
                File.Move(part, final);
#endif
                return new TransferResult { RemotePath = remotePath, LocalPath = final, Bytes = got, Elapsed = clock.Elapsed, Resumed = offset > 0, StartOffset = offset };
            }, ct).ConfigureAwait(false);
        }

        private static void DeleteIfEmpty(string path)
        {
            try
            {
                var info = new FileInfo(path);
                if (info.Exists && info.Length == 0) info.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the original failure is what matters */ }
        }

        private static FileStream OpenLocalForWrite(string path, long offset)
        {
            try
            {
                // Unbuffered: the transfer loop already writes whole network reads, up to 256 KiB at a time.
                var fs = new FileStream(path, offset > 0 ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0, useAsync: true);
                if (offset > 0) fs.Seek(offset, SeekOrigin.Begin);
                return fs;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FtpException(e is UnauthorizedAccessException ? FtpErrorKind.PermissionDenied : FtpErrorKind.LocalIo, "LocalWriteFailed", $"Cannot write {path}: {e.Message}", inner: e);
            }
        }

        private Task<long> UploadCoreAsync(Stream source, string remotePath, long offset, bool append, IProgress<TransferProgress>? progress, CancellationToken ct)
            => Exclusive(() => UploadUnlockedAsync(source, remotePath, offset, append, null, progress, ct), ct);

        private async Task<long> UploadUnlockedAsync(Stream source, string remotePath, long offset, bool append, long? length, IProgress<TransferProgress>? progress, CancellationToken ct)
        {
            FtpCommand.CheckArgument(remotePath, "remote path");
            await EnsureBinaryAsync(ct).ConfigureAwait(false);
            string command = (append ? "APPE " : "STOR ") + remotePath;
            var transfer = await OpenDataTransferAsync(command, append ? 0 : offset, ct).ConfigureAwait(false);
            long total = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(TransferBufferSize);
            var clock = Stopwatch.StartNew();
            var reporter = new ProgressThrottle(progress, remotePath, length, offset);
            try
            {
                await RunTransferAsync(transfer, async data =>
                {
                    while (true)
                    {
                        int n;
                        try { n = await source.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false); }
                        catch (IOException e) { throw new FtpException(FtpErrorKind.LocalIo, "LocalReadFailed", $"Reading the local source for {remotePath} failed: {e.Message}", inner: e); }
                        if (n == 0) break;
                        try { await data.WriteAsync(buffer, 0, n, ct).ConfigureAwait(false); }
                        catch (IOException e) { throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated", $"The data connection to {Options.Host} broke after {total} bytes of {remotePath}: {e.Message}", inner: e); }
                        total += n;
                        reporter.Report(offset + total, clock.Elapsed);
                    }
                    await data.FlushAsync(ct).ConfigureAwait(false);
                }, ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            reporter.Complete(offset + total, clock.Elapsed);
            return total;
        }

        private async Task<TransferResult> UploadFileCoreAsync(string localPath, string remotePath, bool resume, bool overwrite, IProgress<TransferProgress>? progress, CancellationToken ct)
        {
            return await Exclusive(async () =>
            {
                string full = Path.GetFullPath(localPath);
                if (!File.Exists(full))
                    throw new FtpException(FtpErrorKind.NotFound, "LocalFileNotFound", $"The local file {full} does not exist.");
                long length = new FileInfo(full).Length;
                long? remoteSize = await GetSizeUnlockedAsync(remotePath, ct).ConfigureAwait(false);
                if (remoteSize != null && !overwrite && !resume)
                    throw new FtpException(FtpErrorKind.AlreadyExists, "RemoteFileExists", $"{remotePath} already exists on {Options.Host}; it is neither overwritten nor continued unless asked.");
                long offset = resume && remoteSize is long rs ? rs : 0;
                if (offset > length)
                    throw new FtpException(FtpErrorKind.Protocol, "RemoteFileLonger", $"Cannot resume: {remotePath} has {offset} bytes, more than the local {full} ({length}).");
                var clock = Stopwatch.StartNew();
                long sent = 0;
                if (offset < length || remoteSize == null)
                {
                    using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                    file.Seek(offset, SeekOrigin.Begin);
                    // REST+STOR is exact where the server has REST STREAM; APPE is the portable way to continue.
                    bool append = offset > 0 && !HasFeature("REST");
                    sent = await UploadUnlockedAsync(file, remotePath, offset, append, length, progress, ct).ConfigureAwait(false);
                    // A server (or someone on the path) that answers 226 before the data went out has not stored the
                    // file: without this the SIZE check below passes whenever SIZE finds nothing (found by the fault
                    // relay's 226-before-150 case).
                    if (sent != length - offset)
                        throw new FtpException(FtpErrorKind.Truncated, "TransferTruncated",
                            $"The upload of {full} to {remotePath} on {Options.Host} ended after {sent} of {length - offset} bytes: the server answered before it took the data.");
                }
                long? after = await GetSizeUnlockedAsync(remotePath, ct).ConfigureAwait(false);
                if (after is long a && a != length)
                    throw new FtpException(FtpErrorKind.Truncated, "UploadLengthMismatch", $"After the upload {remotePath} has {a} bytes on {Options.Host}, but {full} has {length}.");
                return new TransferResult { RemotePath = remotePath, LocalPath = full, Bytes = sent, Elapsed = clock.Elapsed, Resumed = offset > 0, StartOffset = offset };
            }, ct).ConfigureAwait(false);
        }

        /// <summary>Reports progress at most every 250 ms, and once at the end.</summary>
        private sealed class ProgressThrottle
        {
            private readonly IProgress<TransferProgress>? _progress;
            private readonly string _path;
            private readonly long? _total;
            private readonly long _start;
            private TimeSpan? _last;

            public ProgressThrottle(IProgress<TransferProgress>? progress, string path, long? total, long start)
            {
                _progress = progress; _path = path; _total = total; _start = start;
            }

            public void Report(long done, TimeSpan elapsed)
            {
                if (_progress == null || _last is TimeSpan last && elapsed - last < TimeSpan.FromMilliseconds(250)) return;
                _last = elapsed;
                _progress.Report(new TransferProgress(_path, done, _total, elapsed));
            }

            public void Complete(long done, TimeSpan elapsed) => _progress?.Report(new TransferProgress(_path, done, _total ?? done, elapsed));
        }
    }
}
