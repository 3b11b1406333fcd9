using SecureFtp.Listing;
using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>What Receive-FtpFile and Send-FtpFile share: -Resume, -Force, -PassThru, and one progress writer
    /// for the whole pipeline (a bar per file under an overall bar), finished at the end.</summary>
    public abstract class FtpTransferCmdlet : FtpSessionCmdlet
    {
        private TransferProgressWriter? _progress;

        [Parameter]
        public SwitchParameter Resume { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>The overall bar's activity, e.g. "Receiving files".</summary>
        protected abstract string ProgressActivity { get; }

        /// <summary>How many items -Path names when they do not come from the pipeline (the overall bar's total).</summary>
        protected abstract int ArgumentCount { get; }

        private protected TransferProgressWriter Progress => _progress!;

        protected override void BeginProcessing()
        {
            _progress = new TransferProgressWriter(this, ProgressActivity, MyInvocation.ExpectingInput ? null : ArgumentCount);
        }

        protected override void EndProcessing() => _progress?.Finish();
    }

    /// <summary>Receive-FtpFile: downloads remote files. A download is written under a temporary name and takes the
    /// final name only when complete and verified. Items from Get-FtpChildItem -Recurse keep their tree under -Destination.</summary>
    [Cmdlet(VerbsCommunications.Receive, "FtpFile", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ReceiveFtpFileCommand : FtpTransferCmdlet
    {

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "RemotePath")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter(Position = 1)]
        [Alias("LocalPath")]
        public string Destination { get; set; } = ".";

        /// <summary>Bound from Get-FtpChildItem's output: where the item goes below -Destination.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
        public string? RelativePath { get; set; }

        /// <summary>Bound from Get-FtpChildItem's output: directories are created locally, not downloaded.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
        [Alias("Type")]
        public FtpItemType? ItemType { get; set; }

        /// <summary>Bound from Get-FtpChildItem's output: why the server's name for the item cannot become a local
        /// name (null when it can). Such items are refused one by one; the others are still fetched.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
        public string? UnsafeNameReason { get; set; }

        protected override string ProgressActivity => "Receiving files";
        protected override int ArgumentCount => Path.Length;

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            string destination = LocalPath(Destination);
            if (RelativePath != null && Path.Length == 1)
            {
                // An item of a listing: it keeps its place in the remote tree, and every name on the way there came
                // from the server, so each must be a safe local name and the result must stay under -Destination.
                string? local = GuardedLocalPath(destination, RelativePath, Path[0]);
                if (local == null) return;
                if (ItemType == FtpItemType.Directory)
                {
                    if (ShouldProcess(local, "Create directory")) System.IO.Directory.CreateDirectory(local);
                }
                else Receive(session, Path[0], local);
                return;
            }
            bool intoDirectory = System.IO.Directory.Exists(destination) || EndsWithSeparator(Destination) || Path.Length > 1 || MyInvocation.ExpectingInput;
            foreach (var remote in Path)
            {
                // Into a folder, the local name is the remote one, so it gets the same checks; a file path the user
                // typed as -Destination is the user's choice and is taken as given.
                string? local = intoDirectory ? GuardedLocalPath(destination, RemotePath.GetFileName(remote), remote) : destination;
                if (local != null) Receive(session, remote, local);
            }
        }

        /// <summary>The local path for a server-supplied relative path, or null after writing the per-item error.</summary>
        private string? GuardedLocalPath(string destination, string relative, string remote)
        {
            try
            {
                if (UnsafeNameReason != null) throw LocalPathGuard.Refusal(remote, UnsafeNameReason);
                return LocalPathGuard.ResolveUnder(destination, relative, remote);
            }
            catch (FtpException e)
            {
                WriteFailure(e, remote);
                return null;
            }
        }

        private void Receive(FtpSession session, string remote, string local)
        {
            if (!ShouldProcess($"{remote} -> {local}", File.Exists(local) ? "Download and overwrite" : "Download")) return;
            long bytes = 0;
            try
            {
                var parent = System.IO.Path.GetDirectoryName(local);
                if (!string.IsNullOrEmpty(parent)) System.IO.Directory.CreateDirectory(parent);
                var reporter = Progress.ForFile(remote);
                var result = RunOn(session, (c, ct) => c.DownloadFileAsync(remote, local, Resume, Force, reporter, ct));
                bytes = result.Bytes;
                if (PassThru) WriteObject(new FileInfo(local));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, remote);
            }
            finally
            {
                Progress.FileFinished(remote, bytes);
            }
        }

        private static bool EndsWithSeparator(string path) => path.EndsWith("/", StringComparison.Ordinal) || path.EndsWith("\\", StringComparison.Ordinal);
    }

    /// <summary>Send-FtpFile: uploads local files. From Get-ChildItem -Recurse the local tree is recreated under
    /// -Destination, relative to the folder of the first item received.</summary>
    [Cmdlet(VerbsCommunications.Send, "FtpFile", SupportsShouldProcess = true)]
    [OutputType(typeof(FtpItemInfo))]
    public sealed class SendFtpFileCommand : FtpTransferCmdlet
    {
        private string? _pipelineBase;
        private readonly HashSet<string> _createdDirectories = new HashSet<string>(StringComparer.Ordinal);

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "LocalPath")]
        [SupportsWildcards]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter(Position = 1)]
        [Alias("RemotePath")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string Destination { get; set; } = "";

        protected override string ProgressActivity => "Sending files";
        protected override int ArgumentCount => Path.Length;

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var pattern in Path)
            {
                IEnumerable<string> locals;
                try { locals = ResolveLocal(pattern); }
                catch (Exception e) when (e is ItemNotFoundException || ErrorRecords.IsReportable(e))
                {
                    WriteError(new ErrorRecord(e, "LocalPathNotFound", ErrorCategory.ObjectNotFound, pattern));
                    continue;
                }
                foreach (var local in locals) SendOne(session, local);
            }
        }


        private IEnumerable<string> ResolveLocal(string pattern)
        {
            if (MyInvocation.ExpectingInput || !WildcardPattern.ContainsWildcardCharacters(pattern)) return new[] { LocalPath(pattern) };
            return GetResolvedProviderPathFromPSPath(pattern, out _);
        }

        private void SendOne(FtpSession session, string local)
        {
            bool isDirectory = System.IO.Directory.Exists(local);
            if (!isDirectory && !File.Exists(local))
            {
                WriteError(ErrorRecords.Create("LocalPathNotFound", ErrorCategory.ObjectNotFound, $"The local file '{local}' does not exist.", local));
                return;
            }
            string remote = RemoteTarget(session, local);
            if (isDirectory)
            {
                if (ShouldProcess(remote, "Create remote directory")) EnsureRemoteDirectory(session, remote);
                return;
            }
            if (!ShouldProcess($"{local} -> {remote}", "Upload")) return;
            long bytes = 0;
            try
            {
                string parent = RemotePath.GetParent(remote);
                if (parent.Length > 0 && parent != "/" && _pipelineBase != null) EnsureRemoteDirectory(session, parent);
                var reporter = Progress.ForFile(local);
                var result = RunOn(session, (c, ct) => c.UploadFileAsync(local, remote, Resume, Force, reporter, ct));
                bytes = result.Bytes;
                if (PassThru)
                {
                    var item = RunOn(session, (c, ct) => c.GetItemAsync(remote, ct));
                    if (item != null) WriteObject(new FtpItemInfo(item, session, item.Name));
                }
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, local);
            }
            finally
            {
                Progress.FileFinished(local, bytes);
            }
        }

        /// <summary>Where a local file goes: under Destination by its path relative to the pipeline's base folder,
        /// or by name when Destination is a directory, or to Destination itself.</summary>
        private string RemoteTarget(FtpSession session, string local)
        {
            string name = System.IO.Path.GetFileName(local.TrimEnd(System.IO.Path.DirectorySeparatorChar));
            if (MyInvocation.ExpectingInput)
            {
                _pipelineBase ??= System.IO.Path.GetDirectoryName(local.TrimEnd(System.IO.Path.DirectorySeparatorChar));
                string relative = _pipelineBase != null && local.StartsWith(_pipelineBase + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)
                    ? local.Substring(_pipelineBase.Length + 1).Replace(System.IO.Path.DirectorySeparatorChar, '/')
                    : name;
                return RemotePath.Combine(Destination, relative);
            }
            if (Destination.Length == 0 || Destination.EndsWith("/", StringComparison.Ordinal) || Path.Length > 1) return RemotePath.Combine(Destination, name);
            var existing = RunOn(session, (c, ct) => c.GetItemAsync(Destination, ct));
            return existing?.Type == FtpItemType.Directory ? RemotePath.Combine(Destination, name) : Destination;
        }

        private void EnsureRemoteDirectory(FtpSession session, string remote)
        {
            if (remote.Length == 0 || !_createdDirectories.Add(remote)) return;
            try
            {
                var existing = RunOn(session, (c, ct) => c.GetItemAsync(remote, ct));
                if (existing == null) RunOn(session, (c, ct) => c.CreateDirectoryAsync(remote, ct));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, remote);
            }
        }
    }
}
