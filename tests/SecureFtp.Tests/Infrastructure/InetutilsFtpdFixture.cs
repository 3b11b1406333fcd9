using System.Diagnostics;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>GNU inetutils ftpd: plain RFC 959, no security at all (the fallback-policy peer). It does not
/// chroot, so remote paths are the local ones; it authenticates through PAM service "ftp".</summary>
public sealed class InetutilsFtpdFixture : FtpServerFixture
{
    public InetutilsFtpdFixture() : base("inetutils-ftpd") { }

    public override PeerCapabilities Capabilities => new(FtpMechanism.None, AllowsClearData: true, AllowsCcc: false, RequiresTlsSessionReuse: false);

    public override string RemoteRoot => RootDirectory;

    protected override ProcessStartInfo PrepareServer(int port)
        => InetdStyleServer.Start(port, Peer.Require("inetutils-ftpd"), new[] { "--auth=pam", "--umask=022" });
}
