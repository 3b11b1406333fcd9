using System;
using System.Management.Automation;

namespace SecureFtp.PowerShell
{
    /// <summary>Write-Progress for a run of transfers: one bar per file (bytes, percent, rate, time left) under an
    /// overall bar once there is more than one file. Throttled, completed at the end, and silent (nothing is even
    /// built) under $ProgressPreference = 'SilentlyContinue'.</summary>
    internal sealed class TransferProgressWriter
    {
        private const int OverallId = 1;
        private const int FileId = 2;
        private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

        private readonly SecureFtpCmdlet _cmdlet;
        private readonly string _activity;
        private readonly int? _expectedFiles;
        private int _filesDone;
        private long _bytesDone;
        private bool _overallShown;

        public TransferProgressWriter(SecureFtpCmdlet cmdlet, string activity, int? expectedFiles)
        {
            _cmdlet = cmdlet;
            _activity = activity;
            _expectedFiles = expectedFiles;
        }

        private bool Overall => _overallShown || _filesDone > 0 || _expectedFiles > 1;

        /// <summary>The per-file reporter to hand to the engine; null when progress is not wanted.</summary>
        public IProgress<TransferProgress>? ForFile(string name)
        {
            if (!_cmdlet.ProgressWanted) return null;
            if (Overall) WriteOverall();
            return new FileReporter(this, name);
        }

        /// <summary>Called on the pipeline thread when one file is done (or failed).</summary>
        public void FileFinished(string name, long bytes)
        {
            // The file's bar is completed under the parent it was shown with.
            int parent = Overall ? OverallId : -1;
            _filesDone++;
            _bytesDone += bytes;
            if (!_cmdlet.ProgressWanted) return;
            _cmdlet.WriteProgress(new ProgressRecord(FileId, _activity, name) { ParentActivityId = parent, RecordType = ProgressRecordType.Completed });
        }

        /// <summary>Completes the overall bar; call from EndProcessing.</summary>
        public void Finish()
        {
            if (!_overallShown || !_cmdlet.ProgressWanted) return;
            _cmdlet.WriteProgress(new ProgressRecord(OverallId, _activity, Status()) { RecordType = ProgressRecordType.Completed });
        }

        private void WriteOverall()
        {
            _overallShown = true;
            var record = new ProgressRecord(OverallId, _activity, Status());
            if (_expectedFiles > 0) record.PercentComplete = Math.Min(100, _filesDone * 100 / _expectedFiles.Value);
            _cmdlet.WriteProgress(record);
        }

        private string Status() => _expectedFiles > 0
            ? $"{_filesDone} of {_expectedFiles} files, {FormatBytes(_bytesDone)}"
            : $"{_filesDone} files, {FormatBytes(_bytesDone)}";

        private void WriteFile(string name, TransferProgress p)
        {
            var status = p.TotalBytes is long total
                ? $"{FormatBytes(p.BytesTransferred)} of {FormatBytes(total)} at {FormatBytes((long)p.BytesPerSecond)}/s"
                : $"{FormatBytes(p.BytesTransferred)} at {FormatBytes((long)p.BytesPerSecond)}/s";
            var record = new ProgressRecord(FileId, _activity + ": " + name, status)
            {
                ParentActivityId = Overall ? OverallId : -1,
                PercentComplete = p.PercentComplete ?? -1,
                SecondsRemaining = p.Remaining is TimeSpan left ? (int)Math.Min(int.MaxValue, left.TotalSeconds) : -1,
            };
            _cmdlet.WriteProgress(record);
        }

        internal static string FormatBytes(long bytes)
        {
            string[] units = { "B", "KB", "MB", "GB", "TB" };
            double value = bytes;
            int unit = 0;
            while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
            return unit == 0 ? $"{bytes} B" : $"{value:0.0} {units[unit]}";
        }

        /// <summary>Called by the engine on its own thread; hands a record to the pipeline thread at most every
        /// <see cref="Interval"/>.</summary>
        private sealed class FileReporter : IProgress<TransferProgress>
        {
            private readonly TransferProgressWriter _owner;
            private readonly string _name;
            private TimeSpan _lastShown = TimeSpan.MinValue;

            public FileReporter(TransferProgressWriter owner, string name)
            {
                _owner = owner;
                _name = name;
            }

            public void Report(TransferProgress value)
            {
                if (_lastShown != TimeSpan.MinValue && value.Elapsed - _lastShown < Interval) return;
                _lastShown = value.Elapsed;
                _owner._cmdlet.Post(_ => _owner.WriteFile(_name, value));
            }
        }
    }
}
