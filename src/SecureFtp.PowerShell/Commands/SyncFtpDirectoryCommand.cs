using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SecureFtp.Sync;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Sync-FtpDirectory: keeps a local folder and a remote folder in step, in one direction. The plan is made
    /// first (listings and comparisons only); each transfer and delete then passes ShouldProcess, and the approved ones
    /// run over -ThrottleLimit sessions. One SyncAction per path; a failed file is a non-terminating error and the
    /// job goes on, so a scheduler reads the outcome from $? and the error records' ids.</summary>
    [Cmdlet(VerbsData.Sync, "FtpDirectory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(SyncAction))]
    public sealed class SyncFtpDirectoryCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ArgumentCompleter(typeof(RemotePathCompleter))]
        [ValidateNotNullOrEmpty]
        public string RemotePath { get; set; } = "";

        /// <summary>The local folder ("new": the base class's LocalPath() resolves paths; this is the parameter).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public new string LocalPath { get; set; } = "";

        [Parameter]
        public SyncDirection Direction { get; set; } = SyncDirection.Download;

        [Parameter]
        public SwitchParameter Delete { get; set; }

        [Parameter]
        public SyncCriteria Criteria { get; set; } = SyncCriteria.SizeAndTime;

        [Parameter]
        [SupportsWildcards]
        public string[]? Include { get; set; }

        [Parameter]
        [SupportsWildcards]
        public string[]? Exclude { get; set; }

        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            var options = new SyncOptions
            {
                RemotePath = RemotePath,
                LocalPath = base.LocalPath(LocalPath),
                Direction = Direction,
                Delete = Delete,
                Criteria = Criteria,
                Include = (Include ?? Array.Empty<string>()).ToList(),
                Exclude = (Exclude ?? Array.Empty<string>()).ToList(),
                ThrottleLimit = ThrottleLimit,
            };

            SyncPlan plan;
            try
            {
                plan = RunOn(session, (client, ct) => SyncPlanner.PlanAsync(client, options, ct));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                // Nothing could be compared (a missing root, a tree over the bounds): the job did not start.
                WriteError(ErrorRecords.From(e, RemotePath));
                return;
            }

            var approved = new List<SyncAction>();
            foreach (var action in plan.Actions)
            {
                switch (action.Action)
                {
                    case SyncActionType.Skip:
                    case SyncActionType.Error:
                        Emit(action);
                        break;
                    default:
                        if (ShouldProcess(Target(action), Verb(action))) approved.Add(action);
                        break;
                }
            }
            if (approved.Count == 0) return;

            var progress = new SyncProgressWriter(this, $"Sync {Direction.ToString().ToLowerInvariant()} {plan.RemoteRoot} <-> {plan.LocalRoot}");
            try
            {
                RunOn(session, (client, ct) => new SyncRunner(plan, done => Post(c => ((SyncFtpDirectoryCommand)c).Emit(done)), progress).RunAsync(client, approved, ct));
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteError(ErrorRecords.From(e, RemotePath));
            }
            finally
            {
                progress.Complete();
            }
        }

        private void Emit(SyncAction action)
        {
            WriteObject(action);
            if (action.Action == SyncActionType.Error && action.Exception != null)
                WriteError(ErrorRecords.From(action.Exception, action.Path));
        }

        private string Target(SyncAction action) => action.Action switch
        {
            SyncActionType.Download => $"{action.RemotePath} -> {action.LocalPath}",
            SyncActionType.Upload => $"{action.LocalPath} -> {action.RemotePath}",
            _ => Direction == SyncDirection.Download ? action.LocalPath : action.RemotePath,
        };

        private string Verb(SyncAction action) => action.Action switch
        {
            SyncActionType.Download => "Download" + (System.IO.File.Exists(action.LocalPath) ? " and overwrite" : ""),
            SyncActionType.Upload => "Upload",
            _ => (Direction == SyncDirection.Download ? "Delete local " : "Delete remote ") + (action.IsDirectory ? "directory" : "file"),
        };

        /// <summary>One Write-Progress bar for the whole job: files and bytes, rate, time left. Reports arrive on
        /// engine threads and are posted to the pipeline thread.</summary>
        private sealed class SyncProgressWriter : IProgress<SyncProgress>
        {
            private const int Id = 1;
            private readonly SyncFtpDirectoryCommand _cmdlet;
            private readonly string _activity;
            private readonly bool _wanted;
            private bool _shown;

            public SyncProgressWriter(SyncFtpDirectoryCommand cmdlet, string activity)
            {
                _cmdlet = cmdlet;
                _activity = activity;
                _wanted = cmdlet.ProgressWanted;
            }

            public void Report(SyncProgress value)
            {
                if (!_wanted) return;
                _cmdlet.Post(c =>
                {
                    _shown = true;
                    string status = $"{value.FilesDone} of {value.FilesTotal} files, {TransferProgressWriter.FormatBytes(value.BytesDone)} of {TransferProgressWriter.FormatBytes(value.BytesTotal)} at {TransferProgressWriter.FormatBytes((long)value.BytesPerSecond)}/s";
                    c.WriteProgress(new ProgressRecord(Id, _activity, status)
                    {
                        PercentComplete = value.PercentComplete,
                        SecondsRemaining = value.Remaining is TimeSpan left ? (int)Math.Min(int.MaxValue, left.TotalSeconds) : -1,
                        CurrentOperation = value.Current is string current ? Listing.TerminalText.Sanitize(current) : null,
                    });
                });
            }

            public void Complete()
            {
                if (_wanted && _shown) _cmdlet.WriteProgress(new ProgressRecord(Id, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
