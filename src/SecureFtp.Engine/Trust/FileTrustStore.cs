using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace SecureFtp.Trust
{
    /// <summary>The trust store on disk: one text file, <see cref="FileName"/>, in the store folder.
    /// <para>Format (docs in the file's own header): UTF-8 lines; '#' starts a comment; each entry is one line of
    /// eight tab-separated fields: host, port (0 = any), key type, SHA-256 fingerprint (hex with colons), source,
    /// time added (UTC, ISO 8601), public key (base64, or '-' when only the fingerprint is known), brand (rest of
    /// the line, may be empty).</para>
    /// <para>The folder is made readable only by its owner (0700) when the store creates it, and the file is
    /// always 0600 (given at creation). A write takes an exclusive lock file, re-reads the store under it, applies
    /// its change, writes a unique temporary file and renames it over the store (<see cref="AtomicFile"/>): concurrent
    /// sessions and scheduled jobs never lose each other's keys, readers never see half a file, and a crash mid-write
    /// leaves the previous store whole.
    /// On Windows the per-user default folder (%APPDATA%) already belongs to the user; no ACL is changed.</para></summary>
    public sealed class FileTrustStore : ITrustStore
    {
        /// <summary>Names the store folder when no path is given per call.</summary>
        public const string EnvironmentVariable = "SECUREFTP_TRUST_STORE";
        public const string FileName = "trusted-keys.txt";
        private const string LockFileName = "trusted-keys.lock";
        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(15);

        private static readonly string Header = string.Join("\n",
            "# SecureFtp trust store (format 1). Managed by Add-/Get-/Remove-FtpTrustedKey; edits by hand are read too.",
            "# One key per line, tab-separated: host, port (0 = any), type (X-SafeTP1|KEA|TLS), SHA-256 fingerprint,",
            "# source (FirstUse|OutOfBand|Replicated), added (UTC), public key (base64 or -), brand (rest of line).");

        /// <summary>The store folder.</summary>
        public string Location { get; }

        /// <summary>The store file inside <see cref="Location"/>.</summary>
        public string FilePath => Path.Combine(Location, FileName);

        /// <summary>Opens the store in <paramref name="folder"/>, else $SECUREFTP_TRUST_STORE, else the per-user
        /// default. Nothing is created until the first write.</summary>
        public FileTrustStore(string? folder = null)
        {
            Location = ResolveLocation(folder);
        }

        /// <summary>The folder a store would use: the argument, else $SECUREFTP_TRUST_STORE, else
        /// ~/.secureftp (Unix) or %APPDATA%\SecureFtp (Windows).</summary>
        public static string ResolveLocation(string? folder = null)
        {
            if (!string.IsNullOrWhiteSpace(folder)) return Path.GetFullPath(folder);
            var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
            if (Path.DirectorySeparatorChar == '\\')
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "SecureFtp");
            var home = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".secureftp");
        }

        public IReadOnlyList<TrustedKey> GetAll() => ReadFile();

        public IReadOnlyList<TrustedKey> Find(string host, int port, string keyType)
        {
            var wanted = TrustHost.Normalize(host);
            return ReadFile().Where(k => k.Host == wanted && PortMatches(k.Port, port) && TypeMatches(k.KeyType, keyType)).ToList();
        }

        public bool HasAnyKeyFor(string host, int port)
        {
            var wanted = TrustHost.Normalize(host);
            return ReadFile().Any(k => k.Host == wanted && PortMatches(k.Port, port));
        }

        /// <summary>Adds a key, replacing an entry for the same host, port, type and fingerprint.</summary>
        public void Add(TrustedKey key)
        {
            var entry = Validate(key);
            Update(keys =>
            {
                keys.RemoveAll(k => k.Host == entry.Host && k.Port == entry.Port && k.KeyType == entry.KeyType && k.Fingerprint == entry.Fingerprint);
                keys.Add(entry);
            });
        }

        /// <summary>Removes the entries for <paramref name="host"/> ("*" = every host) on <paramref name="port"/>
        /// (0 = every port), of the type and fingerprint when given. Returns how many went.</summary>
        public int Remove(string host, int port, string? keyType, string? fingerprint)
        {
            string? wantedHost = host == "*" ? null : TrustHost.Normalize(host);
            string? wantedFingerprint = string.IsNullOrEmpty(fingerprint) ? null : KeyFingerprint.Normalize(fingerprint!);
            int removed = 0;
            Update(keys => removed = keys.RemoveAll(k =>
                (wantedHost == null || k.Host == wantedHost)
                && (port == 0 || k.Port == port)
                && (string.IsNullOrEmpty(keyType) || TypeMatches(k.KeyType, keyType!))
                && (wantedFingerprint == null || k.Fingerprint == wantedFingerprint)));
            return removed;
        }

        internal static bool PortMatches(int stored, int asked) => stored == 0 || asked == 0 || stored == asked;

        private static bool TypeMatches(string stored, string? asked)
            => string.IsNullOrEmpty(asked) || string.Equals(stored, TrustKeyTypes.Normalize(asked!), StringComparison.Ordinal);

        private static TrustedKey Validate(TrustedKey key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            if (key.Port < 0 || key.Port > 65535)
                throw new FtpException(FtpErrorKind.Trust, "InvalidPort", $"{key.Port} is not a TCP port (0 means any port).");
            var publicKey = key.PublicKey ?? Array.Empty<byte>();
            string fingerprint;
            if (publicKey.Length > 0)
            {
                fingerprint = KeyFingerprint.Compute(publicKey);
                if (!string.IsNullOrEmpty(key.Fingerprint) && !KeyFingerprint.AreEqual(key.Fingerprint, fingerprint))
                    throw new FtpException(FtpErrorKind.Trust, "FingerprintMismatch",
                        $"The fingerprint given for {key.Host} ({key.Fingerprint}) is not the SHA-256 of the key given ({fingerprint}).");
            }
            else if (!string.IsNullOrEmpty(key.Fingerprint)) fingerprint = KeyFingerprint.Normalize(key.Fingerprint);
            else throw new FtpException(FtpErrorKind.Trust, "MissingKey", $"A trust store entry for {key.Host} needs a public key or a fingerprint.");
            return new TrustedKey
            {
                Host = TrustHost.Normalize(key.Host),
                Port = key.Port,
                KeyType = TrustKeyTypes.Normalize(key.KeyType),
                PublicKey = publicKey,
                Fingerprint = fingerprint,
                Brand = TrustHost.CleanBrand(key.Brand),
                AddedUtc = key.AddedUtc == default ? DateTime.UtcNow : key.AddedUtc.ToUniversalTime(),
                Source = string.IsNullOrWhiteSpace(key.Source) ? TrustSources.OutOfBand : key.Source.Trim(),
            };
        }

        // ---- file ----

        private List<TrustedKey> ReadFile()
        {
            string text;
            try
            {
                if (!File.Exists(FilePath)) return new List<TrustedKey>();
                text = File.ReadAllText(FilePath, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FtpException(FtpErrorKind.LocalIo, "TrustStoreUnreadable", $"The trust store {FilePath} could not be read: {e.Message}", inner: e);
            }
            return Parse(text, FilePath);
        }

        internal static List<TrustedKey> Parse(string text, string path)
        {
            var keys = new List<TrustedKey>();
            var lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (line.Trim().Length == 0 || line.TrimStart().StartsWith("#", StringComparison.Ordinal)) continue;
                // A line the store cannot read is an error, not something to skip: skipping would forget a key,
                // and the next connection would then treat a changed key as a first use.
                var fields = line.Split(new[] { '\t' }, 8);
                FtpException Bad(string why) => new FtpException(FtpErrorKind.Trust, "TrustStoreInvalid", $"{path} line {i + 1}: {why}. Fix or remove the line.");
                if (fields.Length < 7) throw Bad($"expected 8 tab-separated fields, found {fields.Length}");
                if (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535) throw Bad($"'{fields[1]}' is not a port");
                if (!DateTime.TryParse(fields[5], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var added)) throw Bad($"'{fields[5]}' is not a time");
                byte[] publicKey;
                try { publicKey = fields[6] == "-" ? Array.Empty<byte>() : Convert.FromBase64String(fields[6]); }
                catch (FormatException) { throw Bad("the public key is not base64"); }
                try
                {
                    keys.Add(Validate(new TrustedKey
                    {
                        Host = fields[0], Port = port, KeyType = fields[2], PublicKey = publicKey, Fingerprint = fields[3],
                        Source = fields[4], AddedUtc = added, Brand = fields.Length > 7 ? fields[7] : null,
                    }));
                }
                catch (FtpException e) { throw Bad(e.Message); }
            }
            return keys;
        }

        internal static string Format(IEnumerable<TrustedKey> keys)
        {
            var sb = new StringBuilder(Header).Append('\n');
            foreach (var k in keys)
            {
                sb.Append(k.Host).Append('\t')
                  .Append(k.Port.ToString(CultureInfo.InvariantCulture)).Append('\t')
                  .Append(k.KeyType).Append('\t')
                  .Append(k.Fingerprint).Append('\t')
                  .Append(k.Source).Append('\t')
                  .Append(k.AddedUtc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append('\t')
                  .Append(k.PublicKey.Length == 0 ? "-" : Convert.ToBase64String(k.PublicKey)).Append('\t')
                  .Append(k.Brand ?? "").Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>Read-modify-write under the lock file: concurrent writers (two sessions, a scheduled job, threads
        /// of one process) are serialised by the lock, and each one re-reads the store after taking it, so the change
        /// applies to what the previous writer left and no one's key is lost. The new content replaces the old by one
        /// atomic rename (<see cref="AtomicFile"/>): a crash mid-write leaves the previous store intact.</summary>
        private void Update(Action<List<TrustedKey>> change)
        {
            EnsureFolder();
            using (AcquireLock())
            {
                var keys = ReadFile();
                change(keys);
                try
                {
                    AtomicFile.Write(FilePath, new UTF8Encoding(false).GetBytes(Format(keys)), ownerOnly: true);
                    // A store written by an older version, or copied in by hand, may be wider: narrow it.
                    SetOwnerOnly(FilePath, isFolder: false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new FtpException(FtpErrorKind.LocalIo, "TrustStoreUnwritable", $"The trust store {FilePath} could not be written: {e.Message}", inner: e);
                }
            }
        }

        private void EnsureFolder()
        {
            if (Directory.Exists(Location)) return;
            try
            {
                Directory.CreateDirectory(Location);
                // Only a folder the store made is narrowed: a user may point it at a folder of their own.
                SetOwnerOnly(Location, isFolder: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FtpException(FtpErrorKind.LocalIo, "TrustStoreUnwritable", $"The trust store folder {Location} could not be created: {e.Message}", inner: e);
            }
        }

        private FileStream AcquireLock()
        {
            var path = Path.Combine(Location, LockFileName);
            var deadline = DateTime.UtcNow + LockTimeout;
            while (true)
            {
                try
                {
                    // FileShare.None is an exclusive lock across processes (flock on Unix, share mode on Windows).
                    return OpenLockFile(path);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(25);
                }
                catch (IOException e)
                {
                    throw new FtpException(FtpErrorKind.LocalIo, "TrustStoreLocked", $"The trust store {Location} stayed locked by another process for {LockTimeout.TotalSeconds:0} s ({path}).", inner: e);
                }
            }
        }

        /// <summary>The lock file holds nothing, but is made 0600 at creation all the same, like everything in the folder.</summary>
        private static FileStream OpenLockFile(string path)
        {
#if NET
            if (!OperatingSystem.IsWindows())
                return new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
#endif
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }

        /// <summary>0700 for a folder, 0600 for a file. On Windows (and netstandard2.0 hosts, i.e. Windows
        /// PowerShell) the per-user profile folder's ACL already keeps other users out.</summary>
        internal static void SetOwnerOnly(string path, bool isFolder)
        {
#if NET
            if (OperatingSystem.IsWindows()) return;
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if (isFolder) mode |= UnixFileMode.UserExecute;
            File.SetUnixFileMode(path, mode);
#endif
        }
    }
}
