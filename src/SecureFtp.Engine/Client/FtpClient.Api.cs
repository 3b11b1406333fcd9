using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Security;

namespace SecureFtp
{
    // The public operations. Bodies live in the FtpClient.*.cs files beside this one.
    public sealed partial class FtpClient
    {
        /// <summary>Connects, negotiates security per the policy, logs in, and sets data protection.</summary>
        public static Task<FtpClient> ConnectAsync(FtpClientOptions options, CancellationToken ct = default)
            => ConnectCoreAsync(options, ct);

        /// <summary>Sends any command and returns the reply (no data connection). 1xx replies are followed
        /// by the completion reply.</summary>
        public Task<FtpReply> ExecuteAsync(string command, CancellationToken ct = default) => ExecuteCoreAsync(command, ct);

        /// <summary>Lists a directory: MLSD when offered, else LIST with the Unix/DOS parsers.</summary>
        public Task<IReadOnlyList<FtpListItem>> ListAsync(string? path = null, CancellationToken ct = default) => ListCoreAsync(path, ct);

        /// <summary>NLST: names only.</summary>
        public Task<IReadOnlyList<string>> ListNamesAsync(string? path = null, CancellationToken ct = default) => ListNamesCoreAsync(path, ct);

        /// <summary>Facts about one path (MLST, else SIZE/MDTM, else the parent listing); null when it does not exist.</summary>
        public Task<FtpListItem?> GetItemAsync(string path, CancellationToken ct = default) => GetItemCoreAsync(path, ct);

        /// <summary>Streams a remote file into <paramref name="destination"/>, from <paramref name="offset"/> (REST).
        /// Returns the bytes written. Throws Truncated when the transfer ended early.</summary>
        public Task<long> DownloadAsync(string remotePath, Stream destination, long offset = 0, IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
            => DownloadCoreAsync(remotePath, destination, offset, progress, ct);

        /// <summary>Downloads to a local file through a temporary name (".part"), taking the final name only when
        /// the transfer completed and its length matched. <paramref name="resume"/> continues a ".part" file
        /// or a shorter existing file; without <paramref name="overwrite"/> an existing file is an AlreadyExists error.</summary>
        public Task<TransferResult> DownloadFileAsync(string remotePath, string localPath, bool resume = false, bool overwrite = false, IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
            => DownloadFileCoreAsync(remotePath, localPath, resume, overwrite, progress, ct);

        /// <summary>Streams <paramref name="source"/> to a remote file: STOR, or APPE when <paramref name="append"/>,
        /// or REST+STOR from <paramref name="offset"/>.</summary>
        public Task<long> UploadAsync(Stream source, string remotePath, long offset = 0, bool append = false, IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
            => UploadCoreAsync(source, remotePath, offset, append, progress, ct);

        /// <summary>Uploads a local file. <paramref name="resume"/> continues from the remote size; without
        /// <paramref name="overwrite"/> an existing remote file is an AlreadyExists error.</summary>
        public Task<TransferResult> UploadFileAsync(string localPath, string remotePath, bool resume = false, bool overwrite = false, IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
            => UploadFileCoreAsync(localPath, remotePath, resume, overwrite, progress, ct);

        public Task<long?> GetSizeAsync(string path, CancellationToken ct = default) => GetSizeCoreAsync(path, ct);
        public Task<DateTime?> GetModifiedTimeAsync(string path, CancellationToken ct = default) => GetModifiedTimeCoreAsync(path, ct);
        public Task DeleteFileAsync(string path, CancellationToken ct = default) => SimpleAsync("DELE", path, ct);
        public Task CreateDirectoryAsync(string path, CancellationToken ct = default) => SimpleAsync("MKD", path, ct);
        public Task RemoveDirectoryAsync(string path, CancellationToken ct = default) => SimpleAsync("RMD", path, ct);
        public Task RenameAsync(string from, string to, CancellationToken ct = default) => RenameCoreAsync(from, to, ct);
        public Task ChangeDirectoryAsync(string path, CancellationToken ct = default) => SimpleAsync("CWD", path, ct);
        public Task<string> GetWorkingDirectoryAsync(CancellationToken ct = default) => PwdCoreAsync(ct);
        public Task NoOpAsync(CancellationToken ct = default) => SimpleAsync("NOOP", null, ct);

        /// <summary>HASH (draft-bryan-ftpext-hash) or XSHA256/XSHA1/XMD5 where offered; null when the server has none.</summary>
        public Task<string?> GetServerHashAsync(string path, string algorithm, CancellationToken ct = default) => ServerHashCoreAsync(path, algorithm, ct);

        /// <summary>PBSZ (if not yet sent) and PROT. Private/Safe/Confidential need a security mechanism.</summary>
        public Task SetDataProtectionAsync(DataProtectionLevel level, CancellationToken ct = default) => Exclusive(async () => { await SetProtCoreAsync(level, ct).ConfigureAwait(false); return true; }, ct);

        /// <summary>CCC: the command channel goes back to cleartext; data protection is unchanged.</summary>
        public Task ClearCommandChannelAsync(CancellationToken ct = default) => Exclusive(async () => { await CccCoreAsync(ct).ConfigureAwait(false); return true; }, ct);

        /// <summary>REIN: the server forgets the login and the security (RFC 4217 s.13); this client renegotiates
        /// security as at connect time and logs in again.</summary>
        public Task ReinitializeAsync(CancellationToken ct = default) => Exclusive(async () => { await ReinCoreAsync(ct).ConfigureAwait(false); return true; }, ct);

        /// <summary>QUIT and close. Never throws.</summary>
        public Task DisconnectAsync(CancellationToken ct = default) => DisconnectCoreAsync(ct);
    }
}
