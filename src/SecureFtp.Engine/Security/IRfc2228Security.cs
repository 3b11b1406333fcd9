using System;

namespace SecureFtp.Security
{
    /// <summary>One side (client or server) of an RFC 2228 ADAT mechanism: X-SafeTP1, KEA-SKIPJACK.
    /// The ADAT exchange and the command-channel transform come from <see cref="IControlSecurity"/>
    /// (the paper's Figure 5); the data channel gets a fresh transform per data connection, so a mechanism
    /// can number files and blocks (X-SafeTP1 s.5.4) or put a token at the start of each file (RFC 2773 Fig. 7).
    /// The RFC 2228 syntax (AUTH/ADAT/ENC/63x/PBSZ/PROT and the data block framing) is written once, in
    /// Security/Rfc2228, and used by the client and by the server.</summary>
    public interface IRfc2228Security : IControlSecurity, IDisposable
    {
        /// <summary>The AUTH argument, e.g. "X-SafeTP1".</summary>
        string MechanismName { get; }

        /// <summary>Filled in as the exchange progresses (peer fingerprint, brand, cipher).</summary>
        SecurityDetails Details { get; }

        /// <summary>The largest PBSZ this side can handle; the buffer size is the smaller of both sides'.</summary>
        int MaxBufferSize { get; }

        bool Supports(DataProtectionLevel level);

        /// <summary>The peer the exchange authenticated, once it is established; null when the mechanism does not
        /// authenticate its peer (X-SafeTP1 authenticates the server only, so its server half has none): the password
        /// alone then decides the login. A server refuses USER for a name this peer may not log in as.</summary>
        IAuthenticatedPeer? AuthenticatedPeer { get; }

        /// <summary>The transform for one data connection. <paramref name="sending"/> is true on the side that
        /// writes the data. An empty Encode/Decode plaintext is the end-of-file block (RFC 2228 s.9).</summary>
        ITransform CreateDataTransform(DataProtectionLevel level, bool sending);
    }
}
