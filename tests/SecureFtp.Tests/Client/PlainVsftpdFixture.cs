using System.Diagnostics;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Client;

/// <summary>vsftpd with TLS switched off, announcing a PASV address that is not its own (TEST-NET-1): a plain
/// RFC 959 server for the fallback-policy tests, and a judge of "the PASV address is not followed".</summary>
public sealed class PlainVsftpdFixture : VsftpdFixture
{
    public const string AnnouncedPasvAddress = "192.0.2.7";

    public override PeerCapabilities Capabilities => new(FtpMechanism.None, AllowsClearData: true, AllowsCcc: false, RequiresTlsSessionReuse: false);

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var start = base.PrepareServer(port);
        string config = start.ArgumentList.Count > 0 ? start.ArgumentList[0] : start.Arguments;
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace("ssl_enable=YES", "ssl_enable=NO")
            .Replace("force_local_logins_ssl=YES", "force_local_logins_ssl=NO")
            + $"pasv_address={AnnouncedPasvAddress}\npasv_addr_resolve=NO\n");
        return start;
    }

    /// <summary>The FTP commands vsftpd logged (log_ftp_protocol=YES), e.g. to prove USER never arrived.</summary>
    public IEnumerable<string> LoggedCommands()
        => ReadServerLog().Split('\n').Where(l => l.Contains("FTP command:", StringComparison.Ordinal));
}
