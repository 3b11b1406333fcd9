using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Listing;

namespace SecureFtp.Sync
{
    /// <summary>The result of planning: every action, in order, and what the runner needs to know about the trees.</summary>
    public sealed class SyncPlan
    {
        internal SyncPlan(SyncOptions options, string remoteRoot, string localRoot, List<SyncAction> actions, HashSet<string> remoteDirectories)
        {
            Options = options; RemoteRoot = remoteRoot; LocalRoot = localRoot; Actions = actions; RemoteDirectories = remoteDirectories;
        }

        public SyncOptions Options { get; }
        public string RemoteRoot { get; }
        public string LocalRoot { get; }
        public IReadOnlyList<SyncAction> Actions { get; }

        /// <summary>Remote directories known to exist (relative paths; "" is the root when it exists).</summary>
        internal HashSet<string> RemoteDirectories { get; }
    }

    /// <summary>Compares a remote tree and a local tree and decides, file by file, what a sync does. Reads only:
    /// nothing is changed until <see cref="SyncRunner"/> runs the (approved) actions.
    /// Every name from the server must pass <see cref="LocalPathGuard"/> before it means anything: a refused name is
    /// an Error action of its own (UnsafeRemoteName), is never transferred, and is never a reason to delete.</summary>
    public static class SyncPlanner
    {
        private enum Kind { File, Directory, Other }

        private sealed class Entry
        {
            public Kind Kind;
            public long Size;
            public DateTime? Time;
            /// <summary>True when Time is exact to the second (MLSD modify, a local file), not a LIST date.</summary>
            public bool PreciseTime;
            public string Remote = "";
            public string Local = "";
        }

        private sealed class Tree
        {
            public readonly Dictionary<string, Entry> Entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            /// <summary>Directories that could not be read: nothing below them is deleted on the other side.</summary>
            public readonly List<string> Unread = new List<string>();
        }

        public static async Task<SyncPlan> PlanAsync(FtpClient client, SyncOptions options, CancellationToken ct = default)
        {
            if (string.IsNullOrEmpty(options.RemotePath)) throw new ArgumentException("A remote path is required.", nameof(options));
            if (string.IsNullOrEmpty(options.LocalPath)) throw new ArgumentException("A local path is required.", nameof(options));
            string remoteRoot = options.RemotePath.Length > 1 ? options.RemotePath.TrimEnd('/') : options.RemotePath;
            if (remoteRoot.Length == 0) remoteRoot = "/";
            string localRoot = Path.GetFullPath(options.LocalPath);
            var filter = new SyncFilter(options.Include, options.Exclude);
            var actions = new List<SyncAction>();
            int budget = options.MaxEntries;

            var remote = await ReadRemoteAsync(client, options, remoteRoot, localRoot, filter, actions, () => --budget >= 0, ct).ConfigureAwait(false);
            var local = ReadLocal(options, remoteRoot, localRoot, filter, actions, () => --budget >= 0);

            bool download = options.Direction == SyncDirection.Download;
            var source = download ? remote : local;
            var target = download ? local : remote;
            string sourceSide = download ? "remote" : "local", targetSide = download ? "local" : "remote";

            foreach (var pair in source.Entries.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                ct.ThrowIfCancellationRequested();
                string rel = pair.Key;
                var s = pair.Value;
                string remotePath = download ? s.Remote : RemotePath.Combine(remoteRoot, rel);
                string localPath = s.Local;
                if (s.Kind == Kind.Other)
                {
                    actions.Add(new SyncAction(SyncActionType.Skip, rel, remotePath, localPath, 0, $"Not a regular file or directory on the {sourceSide} side (a link or device): left alone."));
                    continue;
                }
                string? blocked = BlockingAncestor(target, rel);
                if (blocked != null)
                {
                    if (s.Kind == Kind.File)
                        actions.Add(SyncAction.Refused(rel, remotePath, localPath, new FtpException(FtpErrorKind.AlreadyExists, "SyncPathConflict",
                            $"Cannot sync {TerminalText.Sanitize(rel)}: on the {targetSide} side '{TerminalText.Sanitize(blocked)}' is a file or link where a directory is needed (links are never followed).")));
                    continue;
                }
                target.Entries.TryGetValue(rel, out var t);
                if (s.Kind == Kind.Directory)
                {
                    if (t != null && t.Kind != Kind.Directory)
                        actions.Add(SyncAction.Refused(rel, remotePath, localPath, new FtpException(FtpErrorKind.AlreadyExists, "SyncPathConflict",
                            $"Cannot sync {TerminalText.Sanitize(rel)}: it is a directory on the {sourceSide} side and not on the {targetSide} side.")));
                    continue;
                }
                var type = download ? SyncActionType.Download : SyncActionType.Upload;
                SyncAction Transfer(string reason) => new SyncAction(type, rel, remotePath, download ? localPath : s.Local, s.Size, reason) { SourceTime = s.PreciseTime ? s.Time : null };
                if (t == null) { actions.Add(Transfer($"Not on the {targetSide} side.")); continue; }
                if (t.Kind != Kind.File)
                {
                    actions.Add(SyncAction.Refused(rel, remotePath, localPath, new FtpException(FtpErrorKind.AlreadyExists, "SyncPathConflict",
                        $"Cannot sync {TerminalText.Sanitize(rel)}: it is a file on the {sourceSide} side but a directory or link on the {targetSide} side.")));
                    continue;
                }
                var r = download ? s : t;
                var l = download ? t : s;
                try
                {
                    actions.Add(await CompareAsync(client, options, rel, r, l, Transfer, ct).ConfigureAwait(false));
                }
                catch (Exception e) when (e is FtpException { Kind: not FtpErrorKind.Cancelled and not FtpErrorKind.Connection } or IOException or UnauthorizedAccessException)
                {
                    actions.Add(SyncAction.Refused(rel, remotePath, l.Local, e));
                }
            }

            if (options.Delete)
            {
                // Deepest first, so a directory comes after everything in it.
                foreach (var pair in target.Entries.Where(p => !source.Entries.ContainsKey(p.Key))
                             .OrderByDescending(p => p.Key.Count(c => c == '/')).ThenBy(p => p.Key, StringComparer.Ordinal))
                {
                    string rel = pair.Key;
                    var t = pair.Value;
                    if (t.Kind == Kind.Other) continue;                                 // links and devices are left alone
                    if (source.Unread.Any(u => u.Length == 0 || rel == u || rel.StartsWith(u + "/", StringComparison.Ordinal))) continue;
                    if (BlockingAncestor(target, rel) != null) continue;
                    string remotePath = download ? RemotePath.Combine(remoteRoot, rel) : t.Remote;
                    actions.Add(new SyncAction(SyncActionType.Delete, rel, remotePath, t.Local, t.Kind == Kind.File ? t.Size : 0,
                        $"Not on the {sourceSide} side any more.")
                    { IsDirectory = t.Kind == Kind.Directory });
                }
            }

            var remoteDirectories = new HashSet<string>(remote.Entries.Where(p => p.Value.Kind == Kind.Directory).Select(p => p.Key), StringComparer.Ordinal);
            if (!remote.Unread.Contains("")) remoteDirectories.Add("");
            return new SyncPlan(options, remoteRoot, localRoot, actions, remoteDirectories);
        }

        /// <summary>The first proper ancestor of <paramref name="rel"/> that is not a directory on that side, if any.</summary>
        private static string? BlockingAncestor(Tree tree, string rel)
        {
            for (int i = rel.IndexOf('/'); i > 0; i = rel.IndexOf('/', i + 1))
            {
                string prefix = rel.Substring(0, i);
                if (tree.Entries.TryGetValue(prefix, out var e) && e.Kind != Kind.Directory) return prefix;
            }
            return null;
        }

        private static async Task<SyncAction> CompareAsync(FtpClient client, SyncOptions options, string rel, Entry r, Entry l,
            Func<string, SyncAction> transfer, CancellationToken ct)
        {
            bool download = options.Direction == SyncDirection.Download;
            SyncAction Skip(string reason) => new SyncAction(SyncActionType.Skip, rel, r.Remote, l.Local, 0, reason);
            if (r.Size != l.Size) return transfer($"Sizes differ (remote {r.Size}, local {l.Size}).");
            switch (options.Criteria)
            {
                case SyncCriteria.Size:
                    return Skip("Same size.");

                case SyncCriteria.SizeAndTime:
                    {
                        // A LIST date is minutes or days at best: ask MDTM (seconds, UTC) where the listing was not exact.
                        DateTime? remoteTime = r.PreciseTime ? r.Time : await client.GetModifiedTimeAsync(r.Remote, ct).ConfigureAwait(false);
                        if (remoteTime is not DateTime rt) return Skip("Same size; the server gives no modification time to compare.");
                        var action = transfer("");
                        action.SourceTime = download ? rt : l.Time;
                        long rs = Seconds(rt), ls = Seconds(l.Time!.Value);
                        if (download)
                        {
                            if (rs == ls) return Skip("Same size and time.");
                            action.Reason = $"Times differ (remote {Stamp(rt)}, local {Stamp(l.Time.Value)}).";
                            return action;
                        }
                        // Upload: the remote time is the upload time where the server cannot set times, so only a local
                        // copy newer than the remote one is a change.
                        if (ls <= rs) return Skip(ls == rs ? "Same size and time." : "Same size; the remote copy is not older.");
                        action.Reason = $"The local copy is newer (local {Stamp(l.Time.Value)}, remote {Stamp(rt)}).";
                        return action;
                    }

                default:
                    {
                        foreach (var (algorithm, name) in new[] { ("SHA-256", HashAlgorithmName.SHA256), ("SHA-1", HashAlgorithmName.SHA1), ("MD5", HashAlgorithmName.MD5) })
                        {
                            string? remoteHash = await client.GetServerHashAsync(r.Remote, algorithm, ct).ConfigureAwait(false);
                            if (remoteHash == null) continue;
                            string localHash = LocalHash(l.Local, name);
                            if (string.Equals(remoteHash, localHash, StringComparison.OrdinalIgnoreCase)) return Skip($"Same content ({algorithm}).");
                            return transfer($"Contents differ ({algorithm}).");
                        }
                        throw new FtpException(FtpErrorKind.NotSupported, "HashUnavailable",
                            $"{client.Host} offers no HASH, XSHA256, XSHA1 or XMD5 for {TerminalText.Sanitize(r.Remote)}: it cannot be compared by content. Nothing was transferred for it.");
                    }
            }
        }

        private static long Seconds(DateTime t) => (t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t).Ticks / TimeSpan.TicksPerSecond;
        private static string Stamp(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

        private static string LocalHash(string path, HashAlgorithmName name)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            // The algorithm is the one the server's HASH/XSHA1/XMD5 answer used: the local digest must match it to compare
            // the two files. An integrity comparison the user asked for (-Criteria Hash), not a protection.
#pragma warning disable CA5350, CA5351
            using HashAlgorithm algorithm = name == HashAlgorithmName.SHA256 ? SHA256.Create() : name == HashAlgorithmName.SHA1 ? SHA1.Create() : MD5.Create();
#pragma warning restore CA5350, CA5351
            var hash = algorithm.ComputeHash(stream);
            return BitConverter.ToString(hash).Replace("-", "").ToLowerInvariant();
        }

        private static FtpException TooMany(SyncOptions options)
            => new FtpException(FtpErrorKind.Protocol, "SyncTreeTooLarge", $"The trees hold more than {options.MaxEntries} entries; the job was not started.");

        /// <summary>Walks the remote tree breadth-first, each directory listed once, to MaxDepth.</summary>
        private static async Task<Tree> ReadRemoteAsync(FtpClient client, SyncOptions options, string remoteRoot, string localRoot, SyncFilter filter,
            List<SyncAction> actions, Func<bool> take, CancellationToken ct)
        {
            var tree = new Tree();
            var visited = new HashSet<string>(StringComparer.Ordinal) { remoteRoot };
            var pending = new Queue<(string Dir, string Rel, int Depth)>();
            pending.Enqueue((remoteRoot, "", 0));
            while (pending.Count > 0)
            {
                var (dir, rel, depth) = pending.Dequeue();
                IReadOnlyList<FtpListItem> items;
                try
                {
                    items = await client.ListAsync(dir, ct).ConfigureAwait(false);
                }
                catch (FtpException e) when (e.Kind is FtpErrorKind.NotFound or FtpErrorKind.PermissionDenied or FtpErrorKind.Protocol)
                {
                    tree.Unread.Add(rel);
                    // A missing root is an empty tree for an upload (created then); for a download there is nothing to sync.
                    if (rel.Length == 0 && options.Direction == SyncDirection.Download) throw;
                    if (rel.Length > 0) actions.Add(SyncAction.Refused(rel, dir, "", e));
                    continue;
                }
                // Some servers (vsftpd) answer LIST for a path that does not exist with an empty listing. For the root
                // of a download that would read as "the server has nothing", and -Delete would empty the local folder:
                // an empty root must prove it is a directory.
                if (rel.Length == 0 && items.Count == 0 && options.Direction == SyncDirection.Download
                    && (await client.GetItemAsync(remoteRoot, ct).ConfigureAwait(false))?.Type != FtpItemType.Directory)
                    throw new FtpException(FtpErrorKind.NotFound, "RemotePathNotFound",
                        $"The remote folder {TerminalText.Sanitize(remoteRoot)} does not exist on {client.Host}; nothing was synced.");
                foreach (var item in items)
                {
                    string name = item.Name;
                    string childRel = rel.Length == 0 ? name : rel + "/" + name;
                    string remotePath = RemotePath.Combine(dir, name);
                    string? why = LocalPathGuard.WhyUnsafe(name)
                        ?? (item.FullName != remotePath ? $"the listing of {dir} names a path elsewhere ({item.FullName})" : null);
                    if (why != null)
                    {
                        actions.Add(SyncAction.Refused(childRel, item.FullName, "", LocalPathGuard.Refusal(RemotePath.Combine(dir, name), why)));
                        continue;
                    }
                    if (tree.Entries.ContainsKey(childRel)) continue;                 // a name listed twice counts once
                    if (!take()) throw TooMany(options);
                    string local = LocalPathGuard.ResolveUnder(localRoot, childRel, remotePath);
                    switch (item.Type)
                    {
                        case FtpItemType.Directory:
                            if (filter.Excluded(childRel, name)) continue;
                            tree.Entries[childRel] = new Entry { Kind = Kind.Directory, Remote = remotePath, Local = local };
                            if (depth + 1 > options.MaxDepth)
                            {
                                tree.Unread.Add(childRel);
                                actions.Add(SyncAction.Refused(childRel, remotePath, local, new FtpException(FtpErrorKind.Protocol, "SyncTooDeep",
                                    $"{TerminalText.Sanitize(remotePath)} is deeper than {options.MaxDepth} levels below {TerminalText.Sanitize(remoteRoot)}; it was not walked.")));
                            }
                            else if (visited.Add(remotePath)) pending.Enqueue((remotePath, childRel, depth + 1));
                            break;
                        case FtpItemType.File:
                            if (!filter.TakesFile(childRel, name)) continue;
                            bool precise = item.Facts.ContainsKey("modify") && item.LastWriteTime != null;
                            tree.Entries[childRel] = new Entry { Kind = Kind.File, Size = item.Length ?? -1, Time = item.LastWriteTime, PreciseTime = precise, Remote = remotePath, Local = local };
                            break;
                        default:
                            if (filter.Excluded(childRel, name)) continue;
                            tree.Entries[childRel] = new Entry { Kind = Kind.Other, Remote = remotePath, Local = local };
                            break;
                    }
                }
            }
            return tree;
        }

        /// <summary>Walks the local tree; symbolic links (and other reparse points) are entries of their own, never followed.</summary>
        private static Tree ReadLocal(SyncOptions options, string remoteRoot, string localRoot, SyncFilter filter, List<SyncAction> actions, Func<bool> take)
        {
            var tree = new Tree();
            if (File.Exists(localRoot))
                throw new FtpException(FtpErrorKind.AlreadyExists, "LocalPathIsFile", $"{localRoot} is a file, not a folder to sync.");
            if (!Directory.Exists(localRoot))
            {
                if (options.Direction == SyncDirection.Upload)
                    throw new FtpException(FtpErrorKind.NotFound, "LocalPathNotFound", $"The local folder {localRoot} does not exist.");
                return tree;
            }
            bool download = options.Direction == SyncDirection.Download;
            var pending = new Stack<(string Dir, string Rel, int Depth)>();
            pending.Push((localRoot, "", 0));
            while (pending.Count > 0)
            {
                var (dir, rel, depth) = pending.Pop();
                FileSystemInfo[] entries;
                try { entries = new DirectoryInfo(dir).GetFileSystemInfos(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    tree.Unread.Add(rel);
                    actions.Add(SyncAction.Refused(rel, RemotePath.Combine(remoteRoot, rel), dir, e));
                    continue;
                }
                foreach (var info in entries)
                {
                    string name = info.Name;
                    string childRel = rel.Length == 0 ? name : rel + "/" + name;
                    if (!take()) throw TooMany(options);
                    string remotePath = RemotePath.Combine(remoteRoot, childRel);
                    if ((info.Attributes & FileAttributes.ReparsePoint) != 0)
                    {
                        if (!filter.Excluded(childRel, name)) tree.Entries[childRel] = new Entry { Kind = Kind.Other, Local = info.FullName, Remote = remotePath };
                        continue;
                    }
                    if (info is DirectoryInfo)
                    {
                        if (filter.Excluded(childRel, name)) continue;
                        tree.Entries[childRel] = new Entry { Kind = Kind.Directory, Local = info.FullName, Remote = remotePath };
                        if (depth + 1 <= options.MaxDepth) pending.Push((info.FullName, childRel, depth + 1));
                        else tree.Unread.Add(childRel);
                        continue;
                    }
                    // A download's temporary file is the resume point of its remote file, not a file of its own.
                    if (download && name.EndsWith(".part", StringComparison.Ordinal)) continue;
                    if (!filter.TakesFile(childRel, name)) continue;
                    var file = (FileInfo)info;
                    tree.Entries[childRel] = new Entry { Kind = Kind.File, Size = file.Length, Time = file.LastWriteTimeUtc, PreciseTime = true, Local = file.FullName, Remote = remotePath };
                }
            }
            return tree;
        }
    }
}
