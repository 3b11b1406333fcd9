using System;
using System.IO;

namespace SecureFtp.Trust
{
    /// <summary>How key files and the trust store reach the disk: the content goes to a temporary file with a unique
    /// name in the same folder, created readable by its owner only (Unix mode 0600 given to open(2) itself, so there
    /// is no moment at which the file exists with the umask's wider mode), flushed to the disk, then moved over the
    /// final name with one rename. A reader sees the old file or the new one, never half of one; a crash or a full
    /// disk mid-write leaves the old file as it was (and a stray temporary file, which the next write under the same
    /// name removes when it is older than a minute).
    /// <para>On Windows (and in Windows PowerShell, netstandard2.0) the file inherits its folder's ACL, the user's
    /// profile in the default locations; no ACL is changed.</para></summary>
    public static class AtomicFile
    {
        private const string TempSuffix = ".tmp";

        /// <summary>Tests only: called with the temporary file's path once it is written, before the rename (to see
        /// its mode, or to play a crash by throwing).</summary>
        internal static Action<string>? BeforeRename;

        /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> as described above.</summary>
        /// <param name="path">The final name of the file.</param>
        /// <param name="content">The whole content of the file.</param>
        /// <param name="ownerOnly">Mode 0600 (private keys, the trust store); false = the umask's mode (public halves).</param>
        /// <param name="overwrite">False: fail with KeyFileExists when <paramref name="path"/> exists, decided atomically
        /// with the rename (two writers racing for a new name cannot both win; the loser's key is not silently replaced).</param>
        public static void Write(string path, byte[] content, bool ownerOnly = true, bool overwrite = true)
        {
            if (content == null) throw new ArgumentNullException(nameof(content));
            string full = Path.GetFullPath(path);
            string folder = Path.GetDirectoryName(full) ?? ".";
            Directory.CreateDirectory(folder);
            RemoveStaleTemporaries(folder, Path.GetFileName(full));
            string temp = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + TempSuffix);
            try
            {
                using (var stream = CreateNew(temp, ownerOnly))
                {
                    stream.Write(content, 0, content.Length);
                    stream.Flush(flushToDisk: true);
                }
                BeforeRename?.Invoke(temp);
                Publish(temp, full, overwrite);
            }
            catch
            {
                try { File.Delete(temp); } catch (Exception) { /* the original error matters more */ }
                throw;
            }
        }

        /// <summary>Creates <paramref name="path"/>, which must not exist, for writing; 0600 from the start when
        /// <paramref name="ownerOnly"/> (on Unix).</summary>
        internal static FileStream CreateNew(string path, bool ownerOnly)
        {
#if NET
            if (ownerOnly && !OperatingSystem.IsWindows())
                return new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
#endif
            return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }

        private static void Publish(string temp, string path, bool overwrite)
        {
            if (!overwrite)
            {
#if NET
                // .NET's File.Move without overwrite checks for the target and then renames, which two writers can
                // both pass. link(2) claims the name atomically (EEXIST when someone got there first), and the
                // temporary name is then dropped. Where links are not supported (some file systems), File.Move.
                if (!OperatingSystem.IsWindows())
                {
                    if (link(temp, path) == 0)
                    {
                        File.Delete(temp);
                        return;
                    }
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == EEXIST)
                        throw new FtpException(FtpErrorKind.AlreadyExists, "KeyFileExists", $"The key file {path} exists; it was left as it is.");
                }
#endif
                try
                {
                    // Windows: MoveFileEx without MOVEFILE_REPLACE_EXISTING fails atomically when the target exists.
                    File.Move(temp, path);
                    return;
                }
                catch (IOException) when (File.Exists(path))
                {
                    throw new FtpException(FtpErrorKind.AlreadyExists, "KeyFileExists", $"The key file {path} exists; it was left as it is.");
                }
            }
#if NET
            File.Move(temp, path, overwrite: true); // rename(2): atomic replacement on Unix, MoveFileEx REPLACE_EXISTING on Windows
#else
            if (File.Exists(path)) File.Replace(temp, path, null);
            else File.Move(temp, path);
#endif
        }

#if NET
        private const int EEXIST = 17; // the same on Linux and macOS

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        private static extern int link(string existing, string created);
#endif

        /// <summary>Temporary files of this name that a crash left behind. Only ones older than a minute go: a younger
        /// one may belong to a writer still at work.</summary>
        private static void RemoveStaleTemporaries(string folder, string name)
        {
            try
            {
                foreach (var stale in Directory.EnumerateFiles(folder, "." + name + ".*" + TempSuffix))
                    if (DateTime.UtcNow - File.GetLastWriteTimeUtc(stale) > TimeSpan.FromMinutes(1))
                        File.Delete(stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* tidying only */ }
        }
    }
}
