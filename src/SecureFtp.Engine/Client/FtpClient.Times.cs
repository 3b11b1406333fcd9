using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;

namespace SecureFtp
{
    // Setting a remote file's modification time: MFMT (draft-somers-ftp-mfxx), else MDTM with a time argument.
    public sealed partial class FtpClient
    {
        /// <summary>Null until the first attempt; false once this server showed it cannot set times, so a job of
        /// many uploads asks once, not once per file.</summary>
        private bool? _canSetTimes;

        /// <summary>Sets the modification time of <paramref name="path"/> to <paramref name="utc"/> (whole seconds,
        /// UTC, as FTP times are). MFMT where FEAT lists it; else "MDTM time path", which vsftpd and others accept,
        /// checked by reading the time back (a server that does not know the form may take it for a file name).
        /// Returns false when the server cannot set times; throws for a file that does not exist.</summary>
        public Task<bool> SetModifiedTimeAsync(string path, DateTime utc, CancellationToken ct = default) => Exclusive(async () =>
        {
            FtpCommand.CheckArgument(path, "path");
            if (_canSetTimes == false) return false;
            string stamp = ToTimeVal(utc);
            if (HasFeature("MFMT"))
            {
                var mfmt = await Control.ExecuteAsync("MFMT " + stamp + " " + path, ct).ConfigureAwait(false);
                if (mfmt.Code == 213) { _canSetTimes = true; return true; }
                if (mfmt.Code is 550 or 450) throw FtpException.FromReply("MFMT", mfmt, path);
            }
            var mdtm = await Control.ExecuteAsync("MDTM " + stamp + " " + path, ct).ConfigureAwait(false);
            if (mdtm.Code is 213 or 250 or 200)
            {
                // Read it back: only a matching time proves the server set it.
                var now = await GetModifiedTimeUnlockedAsync(path, ct).ConfigureAwait(false);
                if (now is DateTime t && ToTimeVal(t) == stamp) { _canSetTimes = true; return true; }
            }
            _canSetTimes = false;
            Options.Verbose?.Invoke($"{Options.Host} cannot set modification times (no MFMT, no MDTM with a time); remote times stay the upload times.");
            return false;
        }, ct);

        /// <summary>RFC 3659 time-val in UTC, whole seconds.</summary>
        internal static string ToTimeVal(DateTime utc)
        {
            if (utc.Kind == DateTimeKind.Local) utc = utc.ToUniversalTime();
            return utc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        }
    }
}
