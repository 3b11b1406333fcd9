using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp
{
    // Opening further sessions like this one, for parallel transfers (one control connection carries one
    // conversation at a time, so N transfers at once need N sessions).
    public sealed partial class FtpClient
    {
        /// <summary>Opens another session to the same host and port, with the same options (credential, policy,
        /// pins, trust store, certificates, timeouts), restricted to the mechanism this session agreed, so a second
        /// session can never settle for less than the first. It never prompts: a server key this session trusted
        /// is in the trust store by now, and any other key is refused (the engine may run this on any thread).
        /// The credential is the one already held in memory by this session's options; nothing is written.</summary>
        public Task<FtpClient> CloneAsync(CancellationToken ct = default)
        {
            if (!IsConnected)
                throw new FtpException(FtpErrorKind.Connection, "NotConnected", "The session is not connected; there is nothing to open another one like.");
            return ConnectAsync(CloneOptions(), ct);
        }

        /// <summary>The options <see cref="CloneAsync"/> connects with.</summary>
        public FtpClientOptions CloneOptions()
        {
            var options = Options.Clone();
            // The lists are the user's: give the clone its own copies.
            options.PinnedFingerprints = new List<string>(Options.PinnedFingerprints);
            options.PreAuthCommands = new List<string>(Options.PreAuthCommands);
            options.Port = Port;
            var agreed = AgreedMechanism();
            if (agreed != null) options.Mechanisms = new List<FtpMechanism> { agreed.Value };
            options.ConfirmNewKey = null;
            options.AcceptNewKey = false;
            options.ErrorOnUntrusted = true;
            return options;
        }

        /// <summary>The mechanism this session runs under, as an option value; null when it cannot be told.</summary>
        private FtpMechanism? AgreedMechanism() => Security.Mechanism switch
        {
            "TLS" => FtpMechanism.Tls,
            "SSL" => FtpMechanism.Ssl,
            "Implicit TLS" => FtpMechanism.ImplicitTls,
            SecureFtp.Security.SafeTp.SafeTpMechanism.Name => FtpMechanism.SafeTp,
            SecureFtp.Security.Kea.KeaMechanism.Name => FtpMechanism.KeaSkipjack,
            // Cleartext was allowed by the user's policy for the first session; the clone asks for nothing else.
            "None" when Options.Mechanisms.Contains(FtpMechanism.None) || Options.FallbackPolicy != FallbackPolicy.Refuse => FtpMechanism.None,
            _ => null,
        };
    }
}
