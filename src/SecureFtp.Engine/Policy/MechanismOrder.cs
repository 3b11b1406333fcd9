using System.Collections.Generic;
using System.Linq;

namespace SecureFtp.Policy
{
    /// <summary>Turns the user's mechanism list into the ordered list the negotiation tries.
    /// Auto expands to TLS, X-SafeTP1, then KEA-SKIPJACK when a KEA credential is configured (a KEA exchange
    /// cannot start without one). Duplicates keep their first position. None and ImplicitTls are not
    /// AUTH mechanisms: None allows cleartext, ImplicitTls changes how the connection starts.</summary>
    public static class MechanismOrder
    {
        public static IReadOnlyList<FtpMechanism> Expand(FtpClientOptions options)
        {
            var list = new List<FtpMechanism>();
            foreach (var m in options.Mechanisms.Count == 0 ? new[] { FtpMechanism.Auto } : options.Mechanisms)
            {
                IEnumerable<FtpMechanism> items = m == FtpMechanism.Auto
                    ? FtpClientOptions.AutoOrder.Where(a => a != FtpMechanism.KeaSkipjack || options.KeaCredentialPath != null)
                    : new[] { m };
                foreach (var i in items)
                    if (!list.Contains(i)) list.Add(i);
            }
            return list;
        }

        public static bool IsImplicit(IReadOnlyList<FtpMechanism> order) => order.Contains(FtpMechanism.ImplicitTls);

        /// <summary>True when the user listed None explicitly: cleartext is then an allowed outcome, not a fallback.</summary>
        public static bool AllowsCleartext(IReadOnlyList<FtpMechanism> order) => order.Contains(FtpMechanism.None);
    }
}
