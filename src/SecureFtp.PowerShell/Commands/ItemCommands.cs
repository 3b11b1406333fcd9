using SecureFtp.Listing;
using System;
using System.IO;
using System.Management.Automation;
using System.Security.Cryptography;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Remove-FtpItem: deletes remote files (DELE) and directories (RMD; with -Recurse, their contents first).</summary>
    [Cmdlet(VerbsCommon.Remove, "FtpItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveFtpItemCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter]
        public SwitchParameter Recurse { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var path in Path)
            {
                try
                {
                    var item = RunOn(session, (c, ct) => c.GetItemAsync(path, ct))
                        ?? throw new FtpException(FtpErrorKind.NotFound, "RemotePathNotFound", $"The remote path '{path}' does not exist on {session.ComputerName}.");
                    Remove(session, item);
                }
                catch (Exception e) when (ErrorRecords.IsReportable(e))
                {
                    WriteFailure(e, path);
                }
            }
        }

        private void Remove(FtpSession session, FtpListItem item)
        {
            if (item.Type != FtpItemType.Directory)
            {
                if (ShouldProcess(item.FullName, "Delete remote file")) RunOn(session, (c, ct) => c.DeleteFileAsync(item.FullName, ct));
                return;
            }
            if (!ShouldProcess(item.FullName, Recurse ? "Delete remote directory and its contents" : "Delete remote directory")) return;
            if (Recurse)
            {
                foreach (var child in RunOn(session, (c, ct) => c.ListAsync(item.FullName, ct)))
                    Remove(session, child);
            }
            RunOn(session, (c, ct) => c.RemoveDirectoryAsync(item.FullName, ct));
        }
    }

    /// <summary>New-FtpDirectory: MKD; with -Force, missing parents too and no error when it exists.</summary>
    [Cmdlet(VerbsCommon.New, "FtpDirectory", SupportsShouldProcess = true)]
    [OutputType(typeof(FtpItemInfo))]
    public sealed class NewFtpDirectoryCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var path in Path)
            {
                try
                {
                    if (!ShouldProcess(path, "Create remote directory")) continue;
                    if (Force) CreateWithParents(session, path);
                    else RunOn(session, (c, ct) => c.CreateDirectoryAsync(path, ct));
                    var created = RunOn(session, (c, ct) => c.GetItemAsync(path, ct));
                    if (created != null) WriteObject(new FtpItemInfo(created, session, created.Name));
                }
                catch (Exception e) when (ErrorRecords.IsReportable(e))
                {
                    WriteFailure(e, path);
                }
            }
        }

        private void CreateWithParents(FtpSession session, string path)
        {
            var existing = RunOn(session, (c, ct) => c.GetItemAsync(path, ct));
            if (existing != null)
            {
                if (existing.Type == FtpItemType.Directory) return;
                throw new FtpException(FtpErrorKind.AlreadyExists, "RemotePathNotDirectory", $"'{path}' exists on {session.ComputerName} and is not a directory.");
            }
            string parent = RemotePath.GetParent(path);
            if (parent.Length > 0 && parent != "/") CreateWithParents(session, parent);
            RunOn(session, (c, ct) => c.CreateDirectoryAsync(path, ct));
        }
    }

    /// <summary>Rename-FtpItem: RNFR/RNTO. A NewName without '/' stays in the item's directory.</summary>
    [Cmdlet(VerbsCommon.Rename, "FtpItem", SupportsShouldProcess = true)]
    [OutputType(typeof(FtpItemInfo))]
    public sealed class RenameFtpItemCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string Path { get; set; } = "";

        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string NewName { get; set; } = "";

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            string target = NewName.Contains("/") ? NewName : RemotePath.Combine(RemotePath.GetParent(Path), NewName);
            try
            {
                if (!ShouldProcess($"{Path} -> {target}", "Rename remote item")) return;
                RunOn(session, (c, ct) => c.RenameAsync(Path, target, ct));
                if (PassThru)
                {
                    var renamed = RunOn(session, (c, ct) => c.GetItemAsync(target, ct));
                    if (renamed != null) WriteObject(new FtpItemInfo(renamed, session, renamed.Name));
                }
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, Path);
            }
        }
    }

    public enum FtpPathType { Any, Leaf, Container }

    /// <summary>Test-FtpPath: $true when the remote path exists (and is of the asked type), like Test-Path.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "FtpPath")]
    [OutputType(typeof(bool))]
    public sealed class TestFtpPathCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter]
        public FtpPathType PathType { get; set; } = FtpPathType.Any;

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var path in Path)
            {
                try
                {
                    var item = RunOn(session, (c, ct) => c.GetItemAsync(path, ct));
                    WriteObject(item != null && PathType switch
                    {
                        FtpPathType.Leaf => item.Type != FtpItemType.Directory,
                        FtpPathType.Container => item.Type == FtpItemType.Directory,
                        _ => true,
                    });
                }
                catch (Exception e) when (ErrorRecords.IsReportable(e))
                {
                    WriteFailure(e, path);
                }
            }
        }
    }

    /// <summary>Get-FtpFileHash: the server's hash (HASH, XSHA256/XSHA1/XMD5) where offered, otherwise computed by
    /// reading the file. The output compares with Get-FileHash's.</summary>
    [Cmdlet(VerbsCommon.Get, "FtpFileHash")]
    [OutputType(typeof(FtpFileHashInfo))]
    public sealed class GetFtpFileHashCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        public string[] Path { get; set; } = Array.Empty<string>();

        [Parameter]
        [ValidateSet("SHA256", "SHA1", "SHA512", "MD5")]
        public string Algorithm { get; set; } = "SHA256";

        /// <summary>Compute the hash by reading the file even when the server offers one.</summary>
        [Parameter]
        public SwitchParameter Download { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var path in Path)
            {
                try
                {
                    string? hash = Download ? null : RunOn(session, (c, ct) => c.GetServerHashAsync(path, Algorithm, ct));
                    string source = "Server";
                    if (hash == null)
                    {
                        hash = HashByDownload(session, path);
                        source = "Download";
                    }
                    WriteObject(new FtpFileHashInfo(Algorithm, hash.ToUpperInvariant(), path, source));
                }
                catch (Exception e) when (ErrorRecords.IsReportable(e))
                {
                    WriteFailure(e, path);
                }
            }
        }

        private string HashByDownload(FtpSession session, string path)
        {
#pragma warning disable CA5350, CA5351 // the user picks the algorithm to match a checksum they hold (as Get-FileHash does); it is never used to authenticate
            using HashAlgorithm algorithm = Algorithm switch
            {
                "SHA1" => SHA1.Create(),
                "SHA512" => SHA512.Create(),
                "MD5" => MD5.Create(),
                _ => SHA256.Create(),
            };
#pragma warning restore CA5350, CA5351
            using (var sink = new CryptoStream(Stream.Null, algorithm, CryptoStreamMode.Write))
            {
                RunOn(session, (c, ct) => c.DownloadAsync(path, sink, 0, null, ct));
                sink.FlushFinalBlock();
            }
            return BitConverter.ToString(algorithm.Hash!).Replace("-", "");
        }
    }
}
