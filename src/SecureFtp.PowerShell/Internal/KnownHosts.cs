using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SecureFtp.Trust;

namespace SecureFtp.PowerShell
{
    /// <summary>Host names recorded in the trust store, for tab completion; any problem just means no suggestions.</summary>
    internal static class KnownHosts
    {
        public static IEnumerable<string> FromTrustStore(string? folder)
        {
            try
            {
                var store = new FileTrustStore(folder);
                return File.Exists(store.FilePath) ? store.GetAll().Select(k => k.Host).ToList() : new List<string>();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FtpException)
            {
                return Array.Empty<string>();
            }
        }
    }
}
