using System.Diagnostics;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Bench;

/// <summary>The interop suite's vsftpd (explicit TLS, require_ssl_reuse=YES), but also accepting cleartext
/// logins, so the module and curl (TLS and cleartext) are measured against one and the same server.</summary>
internal sealed class BenchServer : VsftpdFixture
{
    protected override ProcessStartInfo PrepareServer(int port)
    {
        var start = base.PrepareServer(port);
        string config = start.ArgumentList.Count > 0 ? start.ArgumentList[0] : start.Arguments;
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace("force_local_logins_ssl=YES", "force_local_logins_ssl=NO")
            .Replace("xferlog_enable=YES", "xferlog_enable=NO")
            .Replace("log_ftp_protocol=YES", "log_ftp_protocol=NO"));
        return start;
    }
}
