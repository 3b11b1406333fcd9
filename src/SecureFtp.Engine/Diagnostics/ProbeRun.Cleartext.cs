using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security.Tls;
using SecureFtp.Trust;

namespace SecureFtp.Diagnostics
{
    // Test-SecureFtpServer's probe: cleartext: greeting, FEAT, USER without AUTH.
    internal sealed partial class ProbeRun
    {
        private async Task CleartextAsync(CancellationToken ct)
        {
            using var connection = await OpenPlainAsync(ct).ConfigureAwait(false);
            var feat = await connection.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
            if (feat.Code == 211) _result.Features = FeatureLines(feat);
            // USER only: a password is never sent in cleartext, not even a made-up one (it could lock an account).
            var user = _options.CleartextProbeUser ?? _options.Credential?.UserName;
            if (string.IsNullOrEmpty(user)) user = "secureftp-probe";
            var reply = await connection.ExecuteAsync("USER " + user, ct).ConfigureAwait(false);
            _result.CleartextLoginReply = reply.ToString();
            _result.CleartextLoginRefused = reply.Code is 331 or 332 or 230 ? false : reply.Code / 100 is 4 or 5 ? true : (bool?)null;
            if (_result.CleartextLoginRefused == null) Note($"USER without AUTH got an unexpected reply: {reply}.");
            await QuitAsync(connection, ct).ConfigureAwait(false);
        }

        private static List<string> FeatureLines(FtpReply feat)
            => feat.Lines.Skip(1).Take(Math.Max(0, feat.Lines.Count - 2)).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }
}
