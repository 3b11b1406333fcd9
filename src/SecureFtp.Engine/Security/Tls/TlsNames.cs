namespace SecureFtp.Security.Tls
{
    /// <summary>The names of FTP over TLS, shared by the client and the server side.</summary>
    public static class TlsNames
    {
        /// <summary>AUTH TLS (RFC 4217); TLS-C in draft-murray-auth-ftp-ssl.</summary>
        public static readonly MechanismName Tls = new MechanismName("TLS", nameof(FtpMechanism.Tls), "TLS-C");

        /// <summary>AUTH SSL; TLS-P in draft-murray-auth-ftp-ssl: data is protected without PROT.</summary>
        public static readonly MechanismName Ssl = new MechanismName("SSL", nameof(FtpMechanism.Ssl), "TLS-P");
    }
}
