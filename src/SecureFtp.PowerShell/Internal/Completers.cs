using SecureFtp.Listing;
using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading;

namespace SecureFtp.PowerShell
{
    /// <summary>Completes remote paths by listing the directory being typed on the session (-Session, else the current one).</summary>
    public sealed class RemotePathCompleter : IArgumentCompleter
    {
        private static readonly TimeSpan ListingBudget = TimeSpan.FromSeconds(5);

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var bound = fakeBoundParameters[nameof(FtpSessionCmdlet.Session)];
            var session = (bound is PSObject wrapped ? wrapped.BaseObject : bound) as FtpSession ?? SessionRegistry.ForCurrentRunspace().Current;
            if (session == null || !session.IsConnected) return Array.Empty<CompletionResult>();

            string word = (wordToComplete ?? "").Trim('\'', '"');
            int slash = word.LastIndexOf('/');
            string directory = slash < 0 ? "" : slash == 0 ? "/" : word.Substring(0, slash);
            string prefix = word.Substring(slash + 1);

            IReadOnlyList<FtpListItem> entries;
            try
            {
                using var budget = new CancellationTokenSource(ListingBudget);
                entries = session.Client.ListAsync(directory.Length == 0 ? null : directory, budget.Token).GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // Completion must never throw at the user; no listing means no suggestions.
                return Array.Empty<CompletionResult>();
            }
            return entries
                .Where(e => e.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase)
                .Select(e =>
                {
                    string text = (directory.Length == 0 ? "" : RemotePath.Combine(directory, "")) + e.Name + (e.Type == FtpItemType.Directory ? "/" : "");
                    string quoted = text.IndexOfAny(new[] { ' ', '\'', '$', '`', '(', ')', ';', '&', '{', '}' }) >= 0 ? "'" + text.Replace("'", "''") + "'" : text;
                    return new CompletionResult(quoted, e.Name, CompletionResultType.ParameterValue, $"{e.Type} {e.FullName}");
                })
                .ToList();
        }
    }

    /// <summary>Completes host names from the open sessions and the trust store's known hosts.</summary>
    public sealed class KnownHostCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            return SessionRegistry.ForCurrentRunspace().All.Select(s => s.ComputerName)
                .Concat(KnownHosts.FromTrustStore(fakeBoundParameters["TrustStorePath"] as string))
                .Where(h => h.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(h => h, StringComparer.OrdinalIgnoreCase)
                .Select(h => new CompletionResult(h, h, CompletionResultType.ParameterValue, h))
                .ToList();
        }
    }

    /// <summary>Completes -Mechanism for Connect-SecureFtp and Start-SecureFtpServer alike: every name of every
    /// mechanism in that side's registry (AUTH names and short names, so KEA-SKIPJACK and KeaSkipjack both), plus
    /// the client's policy words (Auto, ImplicitTls, None) for Connect-SecureFtp.</summary>
    public sealed class MechanismCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            return Names(commandName)
                .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
                .ToList();
        }

        /// <summary>The names -Mechanism takes on <paramref name="commandName"/>'s side.</summary>
        public static IEnumerable<string> Names(string? commandName)
        {
            bool server = commandName != null && commandName.EndsWith("SecureFtpServer", StringComparison.OrdinalIgnoreCase);
            var names = server
                ? Server.ServerMechanisms.Default.All.SelectMany(m => m.Name.AllNames)
                : ClientMechanisms.PolicyWords.Concat(ClientMechanisms.Default.All.SelectMany(m => m.Name.AllNames));
            return names.Distinct(StringComparer.OrdinalIgnoreCase);
        }
    }
}
