using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Listing;

namespace SecureFtp.Sync
{
    /// <summary>Runs the actions of a <see cref="SyncPlan"/> that the caller approved: transfers over up to
    /// ThrottleLimit sessions (the given one and others opened like it), then deletes, deepest first, on one.
    /// A failing file becomes an Error action and the job goes on; only cancellation stops it.</summary>
    public sealed class SyncRunner
    {
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

        private readonly SyncPlan _plan;
        private readonly Action<SyncAction> _completed;
        private readonly IProgress<SyncProgress>? _progress;
        private readonly Stopwatch _clock = new Stopwatch();
        private readonly object _progressGate = new object();
        private TimeSpan _lastReport = TimeSpan.MinValue;
        private int _filesDone, _filesTotal;
        private long _bytesDone, _bytesTotal;

        /// <param name="plan">The approved actions to run.</param>
        /// <param name="completed">Called once per action when it is done (or failed), from any thread.</param>
        /// <param name="progress">Progress over the whole job, at most every 250 ms, from any thread.</param>
        public SyncRunner(SyncPlan plan, Action<SyncAction> completed, IProgress<SyncProgress>? progress = null)
        {
            _plan = plan;
            _completed = completed;
            _progress = progress;
        }

        /// <summary>Sessions opened for this job beyond the given one (for tests and diagnostics).</summary>
        public int ExtraSessionsOpened { get; private set; }

        public async Task RunAsync(FtpClient primary, IEnumerable<SyncAction> approved, CancellationToken ct = default)
        {
            var all = approved.ToList();
            var transfers = all.Where(a => a.Action is SyncActionType.Download or SyncActionType.Upload).ToList();
            var deletes = all.Where(a => a.Action == SyncActionType.Delete).ToList();
            _filesTotal = transfers.Count + deletes.Count;
            _bytesTotal = transfers.Sum(a => Math.Max(0, a.Bytes));
            _clock.Start();

            if (_plan.Options.Direction == SyncDirection.Upload)
                await CreateRemoteDirectoriesAsync(primary, transfers, ct).ConfigureAwait(false);

            var clients = new List<FtpClient> { primary };
            try
            {
                int wanted = Math.Min(Math.Max(1, _plan.Options.ThrottleLimit), Math.Max(1, transfers.Count));
                if (wanted > 1) clients.AddRange(await OpenMoreAsync(primary, wanted - 1, ct).ConfigureAwait(false));
                ExtraSessionsOpened = clients.Count - 1;

                var queue = new ConcurrentQueue<SyncAction>(transfers);
                await Task.WhenAll(clients.Select(c => WorkAsync(c, queue, ct))).ConfigureAwait(false);
                // Every session broke: what is left is reported, not silently dropped.
                while (queue.TryDequeue(out var left))
                    Finish(left.Failed(new FtpException(FtpErrorKind.Connection, "NoSessionLeft", "Every session of the job was lost before this file's turn.")), 0);

                var deleter = clients.FirstOrDefault(c => c.IsConnected) ?? primary;
                foreach (var delete in deletes)
                {
                    ct.ThrowIfCancellationRequested();
                    try { await DeleteAsync(deleter, delete, ct).ConfigureAwait(false); Finish(delete, 0); }
                    catch (Exception e) when (IsPerItem(e, ct)) { Finish(delete.Failed(e), 0); }
                }
            }
            finally
            {
                foreach (var extra in clients.Skip(1))
                {
                    try { await extra.DisconnectAsync(CancellationToken.None).ConfigureAwait(false); } catch (Exception) { /* closing anyway */ }
                    extra.Dispose();
                }
                Report(null, force: true);
            }
        }

        /// <summary>Opens up to <paramref name="count"/> more sessions like <paramref name="primary"/> at once. One that
        /// cannot be opened costs parallelism, not the job (the warning goes to the session's Warning sink).</summary>
        private static async Task<List<FtpClient>> OpenMoreAsync(FtpClient primary, int count, CancellationToken ct)
        {
            var attempts = Enumerable.Range(0, count).Select(_ => primary.CloneAsync(ct)).ToList();
            var opened = new List<FtpClient>();
            foreach (var attempt in attempts)
            {
                try { opened.Add(await attempt.ConfigureAwait(false)); }
                catch (FtpException e) when (!ct.IsCancellationRequested)
                {
                    primary.Options.Warning?.Invoke($"Could not open another session to {primary.Host} for the sync ({e.Message}); going on with fewer.");
                }
            }
            return opened;
        }

        private async Task WorkAsync(FtpClient client, ConcurrentQueue<SyncAction> queue, CancellationToken ct)
        {
            while (queue.TryDequeue(out var action))
            {
                ct.ThrowIfCancellationRequested();
                var fileProgress = new FileProgress(this, action.Path);
                try
                {
                    if (action.Action == SyncActionType.Download) await DownloadAsync(client, action, fileProgress, ct).ConfigureAwait(false);
                    else await UploadAsync(client, action, fileProgress, ct).ConfigureAwait(false);
                    Finish(action, action.Bytes - fileProgress.Counted);
                }
                catch (Exception e) when (IsPerItem(e, ct))
                {
                    Finish(action.Failed(e), -fileProgress.Counted);
                    // A session that broke takes no more work; the others carry on with the queue.
                    if (!client.IsConnected) return;
                }
            }
        }

        private static bool IsPerItem(Exception e, CancellationToken ct)
            => !ct.IsCancellationRequested && e is FtpException or IOException or UnauthorizedAccessException or ArgumentException;

        private async Task DownloadAsync(FtpClient client, SyncAction action, IProgress<TransferProgress> progress, CancellationToken ct)
        {
            string local = action.LocalPath;
            // The plan put this path below the local root through LocalPathGuard; check again before writing.
            if (!LocalPathGuard.IsInside(_plan.LocalRoot, local) || local == _plan.LocalRoot)
                throw LocalPathGuard.Refusal(action.RemotePath, "it would be written outside the destination folder");
            string? parent = Path.GetDirectoryName(local);
            if (!string.IsNullOrEmpty(parent)) Directory.CreateDirectory(parent!);
            // An earlier run's temporary file is continued (REST) rather than fetched again; one longer than the
            // remote file cannot be part of it and starts over.
            string part = local + ".part";
            bool resume = File.Exists(part);
            if (resume && action.Bytes >= 0 && new FileInfo(part).Length > action.Bytes) { File.Delete(part); resume = false; }
            var result = await client.DownloadFileAsync(action.RemotePath, local, resume, overwrite: true, progress, ct).ConfigureAwait(false);
            if (action.SourceTime is DateTime t) File.SetLastWriteTimeUtc(local, t);
            action.Bytes = result.Bytes;
            if (result.Resumed) action.Reason += $" Resumed at byte {result.StartOffset}.";
        }

        private static async Task UploadAsync(FtpClient client, SyncAction action, IProgress<TransferProgress> progress, CancellationToken ct)
        {
            var result = await client.UploadFileAsync(action.LocalPath, action.RemotePath, resume: false, overwrite: true, progress, ct).ConfigureAwait(false);
            action.Bytes = result.Bytes;
            if (action.SourceTime is DateTime t)
            {
                bool set;
                try { set = await client.SetModifiedTimeAsync(action.RemotePath, t, ct).ConfigureAwait(false); }
                catch (FtpException e) when (e.Kind != FtpErrorKind.Cancelled && e.Kind != FtpErrorKind.Connection) { set = false; }
                if (!set) action.Reason += " The server could not take the local modification time.";
            }
        }

        private async Task DeleteAsync(FtpClient client, SyncAction action, CancellationToken ct)
        {
            if (_plan.Options.Direction == SyncDirection.Upload)
            {
                // Remote paths of the plan are the root joined with names that passed the guard: inside the root.
                if (action.IsDirectory) await client.RemoveDirectoryAsync(action.RemotePath, ct).ConfigureAwait(false);
                else await client.DeleteFileAsync(action.RemotePath, ct).ConfigureAwait(false);
                return;
            }
            string local = Path.GetFullPath(action.LocalPath);
            if (!LocalPathGuard.IsInside(_plan.LocalRoot, local) || string.Equals(local.TrimEnd(Path.DirectorySeparatorChar), _plan.LocalRoot.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
                throw new FtpException(FtpErrorKind.Policy, "DeleteOutsideRoot", $"Refused to delete {local}: it is not below {_plan.LocalRoot}.");
            // Never recursive: a directory still holding excluded or unread entries stays, with an error saying why.
            if (action.IsDirectory) Directory.Delete(local, recursive: false);
            else File.Delete(local);
        }

        /// <summary>MKD for every remote directory the uploads need that the plan did not find, parents first.</summary>
        private async Task CreateRemoteDirectoriesAsync(FtpClient client, List<SyncAction> uploads, CancellationToken ct)
        {
            var needed = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var upload in uploads)
            {
                string rel = upload.Path;
                for (int i = rel.LastIndexOf('/'); i > 0; i = rel.LastIndexOf('/', i - 1)) needed.Add(rel.Substring(0, i));
            }
            if (!_plan.RemoteDirectories.Contains("")) await MakeAsync(_plan.RemoteRoot).ConfigureAwait(false);
            foreach (var rel in needed.OrderBy(r => r.Count(c => c == '/')).ThenBy(r => r, StringComparer.Ordinal))
                if (!_plan.RemoteDirectories.Contains(rel)) await MakeAsync(RemotePath.Combine(_plan.RemoteRoot, rel)).ConfigureAwait(false);

            async Task MakeAsync(string path)
            {
                // A failure here shows up as the uploads into it failing, each with its own error.
                try { await client.CreateDirectoryAsync(path, ct).ConfigureAwait(false); }
                catch (FtpException e) when (e.Kind != FtpErrorKind.Cancelled && e.Kind != FtpErrorKind.Connection)
                {
                    client.Options.Verbose?.Invoke($"MKD {path}: {e.Message}");
                }
            }
        }

        private void Finish(SyncAction action, long bytesNotYetCounted)
        {
            Interlocked.Increment(ref _filesDone);
            Interlocked.Add(ref _bytesDone, bytesNotYetCounted);
            _completed(action);
            Report(action.Path, force: false);
        }

        private void Report(string? current, bool force)
        {
            if (_progress == null) return;
            SyncProgress snapshot;
            lock (_progressGate)
            {
                var now = _clock.Elapsed;
                if (!force && _lastReport != TimeSpan.MinValue && now - _lastReport < ProgressInterval) return;
                _lastReport = now;
                snapshot = new SyncProgress(Volatile.Read(ref _filesDone), _filesTotal, Interlocked.Read(ref _bytesDone), _bytesTotal, now, current);
            }
            _progress.Report(snapshot);
        }

        /// <summary>Turns one file's progress into the job's byte count (the delta since its last report).</summary>
        private sealed class FileProgress : IProgress<TransferProgress>
        {
            private readonly SyncRunner _owner;
            private readonly string _path;
            public long Counted;

            public FileProgress(SyncRunner owner, string path) { _owner = owner; _path = path; }

            public void Report(TransferProgress value)
            {
                long done = value.BytesTransferred;
                long delta = done - Counted;
                if (delta <= 0) return;
                Counted = done;
                Interlocked.Add(ref _owner._bytesDone, delta);
                _owner.Report(_path, force: false);
            }
        }
    }
}
