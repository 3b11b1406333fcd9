using System.Diagnostics;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>ProFTPD with mod_tls (loaded from the unpacked proftpd-mod-crypto). "TLSRequired auth" makes the
/// login need TLS but leaves PROT C and CCC to the client; mod_tls requires TLS session reuse on data
/// connections by default, as vsftpd's require_ssl_reuse does.</summary>
public sealed class ProftpdFixture : FtpServerFixture
{
    public ProftpdFixture() : base("proftpd") { }

    public override PeerCapabilities Capabilities => new(FtpMechanism.Tls, AllowsClearData: true, AllowsCcc: true, RequiresTlsSessionReuse: true);

    protected override bool HasPassivePortRange => true;

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var (firstPassive, lastPassive) = PassivePortRange!.Value;
        string modules = Path.Combine(Peer.UnpackedRoot, "proftpd/usr/lib/proftpd");
        string config = WriteWorkFile("proftpd.conf", $"""
            ServerName "SecureFtp test proftpd"
            ServerType standalone
            DefaultServer on
            DefaultAddress 127.0.0.1
            SocketBindTight on
            Port {port}
            UseIPv6 off
            PassivePorts {firstPassive} {lastPassive}
            User nobody
            Group nogroup
            Umask 022
            MaxInstances 30
            PidFile {Path.Combine(WorkDirectory, "proftpd.pid")}
            ScoreboardFile {Path.Combine(WorkDirectory, "proftpd.scoreboard")}
            DelayTable none
            WtmpLog off
            UseReverseDNS off
            SystemLog {Path.Combine(WorkDirectory, "proftpd-system.log")}
            TransferLog {Path.Combine(WorkDirectory, "proftpd-xfer.log")}
            DefaultRoot {RootDirectory}
            RequireValidShell on
            AllowOverwrite on
            AllowStoreRestart on
            AllowRetrieveRestart on
            ModulePath {modules}
            LoadModule mod_tls.c
            <IfModule mod_tls.c>
              TLSEngine on
              TLSLog {Path.Combine(WorkDirectory, "proftpd-tls.log")}
              TLSProtocol TLSv1.2 TLSv1.3
              TLSRequired auth
              TLSRSACertificateFile {ServerCertificateFile}
              TLSRSACertificateKeyFile {ServerKeyFile}
              TLSVerifyClient off
            </IfModule>
            """ + "\n");
        var start = new ProcessStartInfo(Peer.Require("proftpd"));
        // -n: stay in the foreground, so stopping the fixture stops the server.
        foreach (var argument in new[] { "-n", "-c", config })
            start.ArgumentList.Add(argument);
        return start;
    }
}
