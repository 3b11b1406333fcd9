using System.Diagnostics;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>vsftpd with explicit TLS (AUTH TLS) and require_ssl_reuse=YES: the strict judge of TLS session
/// resumption on data connections. PROT C is allowed; vsftpd does not implement CCC.</summary>
public class VsftpdFixture : FtpServerFixture
{
    public VsftpdFixture() : this(implicitTls: false) { }

    protected VsftpdFixture(bool implicitTls) : base("vsftpd")
    {
        ImplicitTls = implicitTls;
    }

    public bool ImplicitTls { get; }

    public override PeerCapabilities Capabilities => new(
        ImplicitTls ? FtpMechanism.ImplicitTls : FtpMechanism.Tls,
        AllowsClearData: true,
        AllowsCcc: false,
        RequiresTlsSessionReuse: true);

    protected override bool HasPassivePortRange => true;

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var (firstPassive, lastPassive) = PassivePortRange!.Value;
        string emptyDirectory = Path.Combine(WorkDirectory, "empty");
        Directory.CreateDirectory(emptyDirectory);
        string config = WriteWorkFile("vsftpd.conf", $"""
            listen=YES
            listen_ipv6=NO
            listen_address=127.0.0.1
            listen_port={port}
            background=NO
            anonymous_enable=NO
            local_enable=YES
            write_enable=YES
            local_umask=022
            chroot_local_user=YES
            allow_writeable_chroot=YES
            local_root={RootDirectory}
            secure_chroot_dir={emptyDirectory}
            pam_service_name=vsftpd
            seccomp_sandbox=NO
            isolate=NO
            isolate_network=NO
            ssl_enable=YES
            implicit_ssl={(ImplicitTls ? "YES" : "NO")}
            rsa_cert_file={ServerCertificateFile}
            rsa_private_key_file={ServerKeyFile}
            ssl_sslv2=NO
            ssl_sslv3=NO
            ssl_tlsv1=YES
            require_ssl_reuse=YES
            strict_ssl_read_eof=YES
            force_local_logins_ssl=YES
            force_local_data_ssl=NO
            pasv_min_port={firstPassive}
            pasv_max_port={lastPassive}
            log_ftp_protocol=YES
            xferlog_enable=YES
            vsftpd_log_file={Path.Combine(WorkDirectory, "vsftpd.log")}
            """ + "\n");
        // The config path as Arguments: subclasses append their own lines to that file.
        return new ProcessStartInfo(Peer.Require("vsftpd"), config);
    }
}

/// <summary>vsftpd with implicit TLS (TLS from the first byte), otherwise as <see cref="VsftpdFixture"/>.</summary>
public sealed class VsftpdImplicitFixture : VsftpdFixture
{
    public VsftpdImplicitFixture() : base(implicitTls: true) { }
}
