namespace SecureFtp.Security
{
    /// <summary>Who a security exchange proved the peer to be, and which user names that identity may log in as
    /// (RFC 2228 s.3: the mechanism's identity, then USER for the account; RFC 2773 maps a KEA certificate to users).
    /// The server asks it at USER; it never needs to know which mechanism proved the identity.</summary>
    public interface IAuthenticatedPeer
    {
        /// <summary>The identity as the mechanism names it (a certificate subject, a Kerberos principal), for logs and replies.</summary>
        string Name { get; }

        /// <summary>True when this identity may log in as <paramref name="user"/>.</summary>
        bool MayLogInAs(string user);
    }
}
