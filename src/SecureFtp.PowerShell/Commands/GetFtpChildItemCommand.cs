using System;
using System.Collections.Generic;
using System.Management.Automation;
using SecureFtp.Listing;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Get-FtpChildItem: lists remote directories (MLSD, else LIST) as Get-ChildItem lists local ones.</summary>
    [Cmdlet(VerbsCommon.Get, "FtpChildItem")]
    [OutputType(typeof(FtpItemInfo))]
    public sealed class GetFtpChildItemCommand : FtpSessionCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[]? Path { get; set; }

        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>How many levels below Path to descend with -Recurse (0 = Path's own entries only). Bounded by
        /// default because the server decides how deep its tree goes, and a hostile one can make it endless.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int Depth { get; set; } = DefaultDepth;

        /// <summary>Deeper than real trees go, shallow enough that an endless one stops quickly.</summary>
        public const int DefaultDepth = 64;

        [Parameter]
        public SwitchParameter File { get; set; }

        [Parameter]
        public SwitchParameter Directory { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var path in Path ?? new string?[] { null })
            {
                try
                {
                    var item = path is null ? null : RunOn(session, (c, ct) => c.GetItemAsync(path, ct));
                    if (path != null && item is null)
                        throw new FtpException(FtpErrorKind.NotFound, "RemotePathNotFound", $"The remote path '{path}' does not exist on {session.ComputerName}.");
                    if (item != null && item.Type != FtpItemType.Directory) Emit(new FtpItemInfo(item, session, item.Name));
                    else ListDirectory(session, path, "", Recurse ? Depth : 0);
                }
                catch (Exception e) when (ErrorRecords.IsReportable(e))
                {
                    WriteFailure(e, path);
                }
            }
        }

        /// <summary>Walks the tree depth-first without recursion (a hostile server can offer an endless or self-nesting
        /// tree: depth is bounded by -Depth, and each directory is listed at most once). Entries are written in the
        /// order Get-ChildItem -Recurse uses: a directory, then what it holds.</summary>
        private void ListDirectory(FtpSession session, string? path, string relativePrefix, int levelsLeft)
        {
            var visited = new HashSet<string>(StringComparer.Ordinal);
            if (path != null) visited.Add(Canonical(path));
            var pending = new Stack<(IEnumerator<FtpListItem> Entries, string Prefix, int LevelsLeft)>();
            pending.Push((RunOn(session, (c, ct) => c.ListAsync(path, ct)).GetEnumerator(), relativePrefix, levelsLeft));
            while (pending.Count > 0)
            {
                var (entries, prefix, left) = pending.Peek();
                if (!entries.MoveNext()) { pending.Pop(); continue; }
                var entry = entries.Current;
                string relative = prefix + entry.Name;
                Emit(new FtpItemInfo(entry, session, relative));
                if (entry.Type != FtpItemType.Directory || left <= 0) continue;
                string? unsafeName = LocalPathGuard.WhyUnsafe(entry.Name);
                if (unsafeName != null)
                {
                    WriteWarning($"Not descending into '{TerminalText.Sanitize(entry.FullName)}': its name is unsafe ({unsafeName}).");
                    continue;
                }
                if (!visited.Add(Canonical(entry.FullName)))
                {
                    WriteWarning($"Not listing '{TerminalText.Sanitize(entry.FullName)}' again: the server offered it twice in one tree.");
                    continue;
                }
                try { pending.Push((RunOn(session, (c, ct) => c.ListAsync(entry.FullName, ct)).GetEnumerator(), relative + "/", left - 1)); }
                catch (Exception e) when (ErrorRecords.IsReportable(e)) { WriteFailure(e, entry.FullName); }
            }
        }

        /// <summary>One spelling per remote directory: no doubled or trailing slashes.</summary>
        private static string Canonical(string remote)
        {
            var parts = remote.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
            return (remote.StartsWith("/", StringComparison.Ordinal) ? "/" : "") + string.Join("/", parts);
        }

        private void Emit(FtpItemInfo item)
        {
            if (File && item.Type == FtpItemType.Directory) return;
            if (Directory && item.Type != FtpItemType.Directory) return;
            WriteObject(item);
        }
    }
}
