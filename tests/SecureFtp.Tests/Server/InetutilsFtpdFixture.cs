using System.Diagnostics;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Server;

/// <summary>GNU inetutils ftpd, the classic plain RFC 959 daemon, started per connection by
/// systemd-socket-activate (playing inetd) on 127.0.0.1: the legacy ftpd of seed 000 s.3.2 behind the proxy.
/// It does not chroot, so the served folder is reached by its full path.</summary>
public sealed class InetutilsFtpdFixture : FtpServerFixture
{
    public InetutilsFtpdFixture() : base("inetutils-ftpd") { }

    public override PeerCapabilities Capabilities => new(FtpMechanism.None, AllowsClearData: true, AllowsCcc: false, RequiresTlsSessionReuse: false);

    public override string RemoteRoot => RootDirectory;

    protected override IEnumerable<string> HelperPeers => new[] { "systemd-socket-activate" };

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var start = new ProcessStartInfo(Peer.Require("systemd-socket-activate"));
        foreach (var argument in new[] { "--listen", $"127.0.0.1:{port}", "--inetd", "--accept", Peer.Require("inetutils-ftpd") })
            start.ArgumentList.Add(argument);
        return start;
    }
}
