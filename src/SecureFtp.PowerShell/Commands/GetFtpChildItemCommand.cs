using System;
using System.Collections.Generic;
using System.Management.Automation;

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

        /// <summary>How many levels below Path to descend with -Recurse (0 = Path's own entries only).</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int Depth { get; set; } = int.MaxValue;

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

        private void ListDirectory(FtpSession session, string? path, string relativePrefix, int levelsLeft)
        {
            IReadOnlyList<FtpListItem> entries = RunOn(session, (c, ct) => c.ListAsync(path, ct));
            foreach (var entry in entries)
            {
                string relative = relativePrefix + entry.Name;
                Emit(new FtpItemInfo(entry, session, relative));
                if (entry.Type == FtpItemType.Directory && levelsLeft > 0)
                {
                    try { ListDirectory(session, entry.FullName, relative + "/", levelsLeft - 1); }
                    catch (Exception e) when (ErrorRecords.IsReportable(e)) { WriteFailure(e, entry.FullName); }
                }
            }
        }

        private void Emit(FtpItemInfo item)
        {
            if (File && item.Type == FtpItemType.Directory) return;
            if (Directory && item.Type != FtpItemType.Directory) return;
            WriteObject(item);
        }
    }
}
