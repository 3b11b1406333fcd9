using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.PowerShell
{
    /// <summary>What every SecureFtp cmdlet shares: engine calls run off the pipeline thread with a token that
    /// Ctrl+C (StopProcessing) cancels, while the pipeline thread writes the progress, warnings and prompts the
    /// engine posts; and failures become error records with an id and a category.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
        Justification = "PowerShell disposes cmdlets only when they implement IDisposable, and the token source holds no timer or handle: it lives exactly as long as one cmdlet invocation.")]
    public abstract class SecureFtpCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private BlockingCollection<Action>? _pipelineWork;

        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>Runs an engine operation and waits for it, doing the pipeline-thread work it posts meanwhile.</summary>
        internal T Run<T>(Func<CancellationToken, Task<T>> operation)
        {
            using var work = new BlockingCollection<Action>();
            var outer = _pipelineWork;
            _pipelineWork = work;
            try
            {
                var task = Task.Run(() => operation(_stopping.Token));
                task.ContinueWith(_ => work.CompleteAdding(), TaskScheduler.Default);
                foreach (var action in work.GetConsumingEnumerable()) action();
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (FtpException e) when (e.Kind == FtpErrorKind.Cancelled && _stopping.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            finally
            {
                _pipelineWork = outer;
            }
        }

        internal void Run(Func<CancellationToken, Task> operation) => Run(async ct => { await operation(ct).ConfigureAwait(false); return true; });

        /// <summary>Queues work for the pipeline thread (the only thread allowed to write to the streams). Work posted
        /// when no operation is running is dropped: there is nobody to show it to.</summary>
        internal void Post(Action<SecureFtpCmdlet> action)
        {
            var work = _pipelineWork;
            if (work == null) return;
            try { work.Add(() => action(this)); }
            catch (InvalidOperationException) { /* the operation just finished */ }
        }

        /// <summary>ShouldContinue from an engine thread: asks on the pipeline thread and waits for the answer.</summary>
        internal bool Ask(string query, string caption)
        {
            var answer = new TaskCompletionSource<bool>();
            Post(c =>
            {
                try { answer.TrySetResult(c.ShouldContinue(query, caption)); }
                catch (Exception e) { answer.TrySetException(e); }
            });
            if (_pipelineWork == null) return false;
            return answer.Task.GetAwaiter().GetResult();
        }

        /// <summary>A failure concerning one item: written as a non-terminating error so a pipeline of many items goes on.</summary>
        internal void WriteFailure(Exception error, object? target) => WriteError(ErrorRecords.From(error, target));

        /// <summary>Resolves a local path against the current PowerShell location (not the process directory).</summary>
        internal string LocalPath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        /// <summary>True unless $ProgressPreference (or -ProgressAction) says to stay silent.</summary>
        internal bool ProgressWanted
        {
            get
            {
                var preference = GetVariableValue("ProgressPreference");
                if (preference is PSObject wrapped) preference = wrapped.BaseObject;
                var text = preference?.ToString();
                return !string.Equals(text, nameof(ActionPreference.SilentlyContinue), StringComparison.OrdinalIgnoreCase)
                    && !string.Equals(text, nameof(ActionPreference.Ignore), StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    /// <summary>A cmdlet that works on a session: -Session from the parameter or the pipeline, else the current one.</summary>
    public abstract class FtpSessionCmdlet : SecureFtpCmdlet
    {
        /// <summary>The session to use; defaults to the current session (the last one connected).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public FtpSession? Session { get; set; }

        internal FtpSession ResolveSession()
        {
            var session = Session ?? SessionRegistry.ForCurrentRunspace().Current;
            if (session == null)
                ThrowTerminatingError(ErrorRecords.Create("NoSession", ErrorCategory.InvalidOperation,
                    "There is no SecureFtp session. Run Connect-SecureFtp first, or pass -Session.", null));
            if (!session!.IsConnected)
                ThrowTerminatingError(ErrorRecords.Create("SessionClosed", ErrorCategory.ConnectionError,
                    $"The session to {session.ComputerName} is closed. Run Connect-SecureFtp again.", session));
            return session;
        }

        /// <summary>Runs an operation on the session with its engine messages routed to this cmdlet.</summary>
        internal T RunOn<T>(FtpSession session, Func<FtpClient, CancellationToken, Task<T>> operation)
        {
            var previous = session.Sink.Target;
            session.Sink.Target = this;
            try { return Run(ct => operation(session.Client, ct)); }
            finally { session.Sink.Target = previous; }
        }

        internal void RunOn(FtpSession session, Func<FtpClient, CancellationToken, Task> operation)
            => RunOn(session, async (client, ct) => { await operation(client, ct).ConfigureAwait(false); return true; });
    }
}
