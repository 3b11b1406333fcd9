using System.Diagnostics;
using System.Security.Authentication;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>ftpd-ssl (netkit ftpd with the SSLeay patches): AUTH SSL, the mechanism of draft-murray (seed 001).
/// It does not chroot, so remote paths are the local ones. It refuses PROT C ("534 Only P will be accepted")
/// and never sends close_notify on a data connection (curl accepts that; the 226 and the length are all
/// that mark the end of a transfer). Two defects of Debian's build shape the set-up:
/// it never loads its certificate (tests/peers/ftpd-ssl-cert-shim.c supplies it through LD_PRELOAD), and its
/// data connections fail when the client offers TLS 1.3 ("SSL_accept DATA called a function you should not
/// call"), whatever the control connection negotiated; so clients of this server cap at TLS 1.2.</summary>
public sealed class FtpdSslFixture : FtpServerFixture
{
    public FtpdSslFixture() : base("ftpd-ssl") { }

#pragma warning disable SYSLIB0039 // TLS 1.2 is not obsolete; the analyzer flags the enum type, not this value.
    public override PeerCapabilities Capabilities => new(FtpMechanism.Ssl, AllowsClearData: false, AllowsCcc: false, RequiresTlsSessionReuse: false, MaxTlsProtocol: SslProtocols.Tls12);
#pragma warning restore SYSLIB0039

    public override string RemoteRoot => RootDirectory;

    /// <summary>Built by tests/peers/install.sh.</summary>
    public static string CertificateShim => Path.Combine(Peer.UnpackedRoot, "ftpd-ssl/secureftp-cert-shim.so");

    protected override ProcessStartInfo PrepareServer(int port)
    {
        if (!File.Exists(CertificateShim))
            Peer.Unavailable($"{CertificateShim} is missing; run tests/peers/install.sh as root.");
        var environment = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = CertificateShim,
            ["FTPD_SSL_CERT"] = ServerCertificateFile,
            ["FTPD_SSL_KEY"] = ServerKeyFile,
        };
        // -l: log each session; -u 022: uploads readable by the tests. (Not "-z debug=": it logs every
        // control byte, the password included.)
        return InetdStyleServer.Start(port, Peer.Require("ftpd-ssl"), new[] { "-l", "-u", "022" }, environment);
    }
}
