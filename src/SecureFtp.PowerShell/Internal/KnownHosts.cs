using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace SecureFtp.PowerShell
{
    /// <summary>Host names recorded in the trust store, for tab completion. Reads only the first field of each
    /// entry of trusted-keys.txt (the store's documented format); any problem just means no suggestions.</summary>
    internal static class KnownHosts
    {
        public static IEnumerable<string> FromTrustStore(string? folder)
        {
            try
            {
                string file = Path.Combine(ResolveFolder(folder), "trusted-keys.txt");
                if (!File.Exists(file)) return Array.Empty<string>();
                return File.ReadAllLines(file)
                    .Where(line => line.Length > 0 && line[0] != '#')
                    .Select(line => line.Split('\t')[0].Trim())
                    .Where(host => host.Length > 0)
                    .ToList();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return Array.Empty<string>();
            }
        }

        private static string ResolveFolder(string? folder)
        {
            if (!string.IsNullOrWhiteSpace(folder)) return folder!;
            var fromEnvironment = Environment.GetEnvironmentVariable("SECUREFTP_TRUST_STORE");
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment!;
            return Path.DirectorySeparatorChar == '\\'
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "SecureFtp")
                : Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".secureftp");
        }
    }
}
