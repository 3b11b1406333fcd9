using System;

namespace SecureFtp.Security
{
    /// <summary>How the server side runs a mechanism.</summary>
    public enum ServerMechanismKind
    {
        /// <summary>The control connection turns into TLS after the 234 (RFC 4217); the server's certificate is the key.</summary>
        Tls,
        /// <summary>An RFC 2228 ADAT exchange; the server half comes from the factory the server's options hold for
        /// this AUTH name (its keys are the server's own).</summary>
        Rfc2228,
    }

    /// <summary>A server-side mechanism as the embedded server knows it: its names, how it runs, and whether
    /// agreeing on it protects data without PROT. The server's options supply what each server needs of its own
    /// (a TLS certificate, an RFC 2228 factory holding the server's key).</summary>
    public sealed class ServerMechanismRegistration : IMechanismRegistration
    {
        public ServerMechanismRegistration(MechanismName name, ServerMechanismKind kind, bool impliesPrivateData = false)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Kind = kind;
            ImpliesPrivateData = impliesPrivateData;
        }

        public MechanismName Name { get; }

        public ServerMechanismKind Kind { get; }

        /// <summary>AUTH SSL / TLS-P: data connections are private from the start (draft-murray-auth-ftp-ssl).</summary>
        public bool ImpliesPrivateData { get; }

        public override string ToString() => Name.AuthName;
    }
}
