namespace SecureFtp.Security
{
    /// <summary>RFC 2228 data channel protection levels (PROT C/S/E/P).</summary>
    public enum DataProtectionLevel
    {
        /// <summary>PROT C: no protection.</summary>
        Clear,
        /// <summary>PROT S: integrity only.</summary>
        Safe,
        /// <summary>PROT E: confidentiality only.</summary>
        Confidential,
        /// <summary>PROT P: integrity and confidentiality.</summary>
        Private,
    }

    public static class DataProtectionLevelExtensions
    {
        public static char ToProtCode(this DataProtectionLevel level) => level switch
        {
            DataProtectionLevel.Clear => 'C',
            DataProtectionLevel.Safe => 'S',
            DataProtectionLevel.Confidential => 'E',
            _ => 'P',
        };
    }

    /// <summary>Which end of a data connection we are.</summary>
    public enum DataStreamRole
    {
        /// <summary>We are the FTP client (the TLS client on the data connection, RFC 4217 s.7).</summary>
        Client,
        /// <summary>We are the FTP server.</summary>
        Server,
    }
}
