using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Security;

namespace SecureFtp
{
    // TEMPORARY: bodies being written; this file goes away as they land.
    public sealed partial class FtpClient
    {
        private static Task<FtpClient> ConnectCoreAsync(FtpClientOptions o, CancellationToken ct) => throw new NotImplementedException();
        private Task<FtpReply> ExecuteCoreAsync(string c, CancellationToken ct) => throw new NotImplementedException();
        private Task<IReadOnlyList<FtpListItem>> ListCoreAsync(string? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<IReadOnlyList<string>> ListNamesCoreAsync(string? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<FtpListItem?> GetItemCoreAsync(string p, CancellationToken ct) => throw new NotImplementedException();
        private Task<long> DownloadCoreAsync(string r, Stream d, long o, IProgress<TransferProgress>? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<TransferResult> DownloadFileCoreAsync(string r, string l, bool res, bool ow, IProgress<TransferProgress>? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<long> UploadCoreAsync(Stream s, string r, long o, bool a, IProgress<TransferProgress>? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<TransferResult> UploadFileCoreAsync(string l, string r, bool res, bool ow, IProgress<TransferProgress>? p, CancellationToken ct) => throw new NotImplementedException();
        private Task<long?> GetSizeCoreAsync(string p, CancellationToken ct) => throw new NotImplementedException();
        private Task<DateTime?> GetModifiedTimeCoreAsync(string p, CancellationToken ct) => throw new NotImplementedException();
        private Task SimpleAsync(string verb, string? arg, CancellationToken ct) => throw new NotImplementedException();
        private Task RenameCoreAsync(string f, string t, CancellationToken ct) => throw new NotImplementedException();
        private Task<string> PwdCoreAsync(CancellationToken ct) => throw new NotImplementedException();
        private Task<string?> ServerHashCoreAsync(string p, string a, CancellationToken ct) => throw new NotImplementedException();
        private Task SetProtCoreAsync(DataProtectionLevel l, CancellationToken ct) => throw new NotImplementedException();
        private Task CccCoreAsync(CancellationToken ct) => throw new NotImplementedException();
        private Task ReinCoreAsync(CancellationToken ct) => throw new NotImplementedException();
        private Task DisconnectCoreAsync(CancellationToken ct) => throw new NotImplementedException();
        public void Dispose() { _security?.Dispose(); _control?.Dispose(); }
    }
}
