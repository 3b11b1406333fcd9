using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureFtp.Sync
{
    /// <summary>-Include / -Exclude: PowerShell-style wildcards (*, ?, [abc], [a-z], ` escapes), case-insensitive,
    /// implemented here because the engine has no PowerShell. A pattern with '/' is matched against the path
    /// relative to the root, any other against the name alone.</summary>
    public sealed class SyncFilter
    {
        private readonly List<(Regex Regex, bool OnPath)> _include;
        private readonly List<(Regex Regex, bool OnPath)> _exclude;

        public SyncFilter(IEnumerable<string>? include, IEnumerable<string>? exclude)
        {
            _include = Compile(include);
            _exclude = Compile(exclude);
        }

        /// <summary>True when a file is taken by the job.</summary>
        public bool TakesFile(string relativePath, string name)
            => !Excluded(relativePath, name) && (_include.Count == 0 || _include.Any(p => p.Regex.IsMatch(p.OnPath ? relativePath : name)));

        /// <summary>True when a directory is left alone, with everything in it.</summary>
        public bool Excluded(string relativePath, string name) => _exclude.Any(p => p.Regex.IsMatch(p.OnPath ? relativePath : name));

        private static List<(Regex, bool)> Compile(IEnumerable<string>? patterns)
            => (patterns ?? Array.Empty<string>()).Where(p => !string.IsNullOrEmpty(p))
                .Select(p => (new Regex(ToRegex(p.Trim('/')), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), p.Trim('/').Contains('/')))
                .ToList();

        internal static string ToRegex(string pattern)
        {
            var sb = new StringBuilder("^");
            for (int i = 0; i < pattern.Length; i++)
            {
                char c = pattern[i];
                switch (c)
                {
                    case '`' when i + 1 < pattern.Length: sb.Append(Regex.Escape(pattern[++i].ToString())); break;
                    case '*': sb.Append(".*"); break;
                    case '?': sb.Append('.'); break;
                    case '[':
                        int end = pattern.IndexOf(']', i + 1);
                        if (end < 0) { sb.Append(@"\["); break; }
                        string set = pattern.Substring(i + 1, end - i - 1);
                        sb.Append('[').Append(set.Replace(@"\", @"\\").Replace("^", @"\^")).Append(']');
                        i = end;
                        break;
                    default: sb.Append(Regex.Escape(c.ToString())); break;
                }
            }
            return sb.Append('$').ToString();
        }
    }
}
