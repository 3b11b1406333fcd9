using System;
using System.Collections.Generic;
using System.Linq;
using SecureFtp.Security;

namespace SecureFtp.Policy
{
    /// <summary>What the user's mechanism list asks for, resolved: the AUTH mechanisms to try in order, and the two
    /// policy words that are not mechanisms (ImplicitTls changes how the connection starts, None allows cleartext).</summary>
    public sealed class MechanismPlan
    {
        internal MechanismPlan(IReadOnlyList<ClientMechanismRegistration> mechanisms, bool isImplicit, bool allowsCleartext, bool wantsSecurity)
        {
            Mechanisms = mechanisms;
            IsImplicit = isImplicit;
            AllowsCleartext = allowsCleartext;
            WantsSecurity = wantsSecurity;
        }

        /// <summary>The AUTH mechanisms, in the order to try them, each once.</summary>
        public IReadOnlyList<ClientMechanismRegistration> Mechanisms { get; }

        /// <summary>ImplicitTls was listed: TLS from the first byte.</summary>
        public bool IsImplicit { get; }

        /// <summary>True when the user listed None explicitly: cleartext is then an allowed outcome, not a fallback.</summary>
        public bool AllowsCleartext { get; }

        /// <summary>Anything but None was listed: a session without security is a fallback, under the fallback policy.</summary>
        public bool WantsSecurity { get; }
    }

    /// <summary>Turns the user's mechanism list into the plan the negotiation follows. Names resolve through
    /// <see cref="FtpClientOptions.MechanismRegistry"/>; Auto expands to the registered mechanisms that offer
    /// themselves to Auto, in registration order (TLS, X-SafeTP1, then KEA-SKIPJACK when a KEA credential is
    /// configured). Duplicates keep their first position. An unknown name fails with the list of known ones.</summary>
    public static class MechanismOrder
    {
        public static MechanismPlan Expand(FtpClientOptions options)
        {
            var registry = options.MechanismRegistry ?? ClientMechanisms.Default;
            var list = new List<ClientMechanismRegistration>();
            bool isImplicit = false, allowsCleartext = false, wantsSecurity = false;
            foreach (var name in Names(options))
            {
                string word = name.Trim();
                if (Is(word, ClientMechanisms.None)) { allowsCleartext = true; continue; }
                wantsSecurity = true;
                if (Is(word, ClientMechanisms.ImplicitTls)) { isImplicit = true; continue; }
                IEnumerable<ClientMechanismRegistration> items = Is(word, ClientMechanisms.Auto)
                    ? registry.All.Where(r => r.OfferedByAuto?.Invoke(options) == true)
                    : new[] { Resolve(registry, word) };
                foreach (var item in items)
                    if (!list.Contains(item)) list.Add(item);
            }
            return new MechanismPlan(list, isImplicit, allowsCleartext, wantsSecurity);
        }

        /// <summary>The registration <paramref name="name"/> stands for, or MechanismUnknown listing the names the
        /// registry and the policy accept.</summary>
        public static ClientMechanismRegistration Resolve(MechanismRegistry<ClientMechanismRegistration> registry, string name)
        {
            if (ClientMechanisms.PolicyWords.Any(w => Is(name.Trim(), w)))
                throw new ArgumentException($"'{name}' is a policy word, not a mechanism.", nameof(name));
            if (registry.TryResolve(name, out var registration)) return registration;
            throw registry.Unknown(name, ClientMechanisms.PolicyWords);
        }

        /// <summary>True when the list is ImplicitTls alone: the default port is then 990.</summary>
        public static bool IsImplicitOnly(FtpClientOptions options)
        {
            var names = Names(options);
            return names.Count == 1 && Is(names[0].Trim(), ClientMechanisms.ImplicitTls);
        }

        /// <summary>The list as names: <see cref="FtpClientOptions.MechanismNames"/>, else the typed
        /// <see cref="FtpClientOptions.Mechanisms"/>, else Auto.</summary>
        private static IReadOnlyList<string> Names(FtpClientOptions options)
        {
            if (options.MechanismNames is { Count: > 0 } names) return names.ToList();
            if (options.Mechanisms is { Count: > 0 } typed) return typed.Select(m => m.ToString()).ToList();
            return new[] { ClientMechanisms.Auto };
        }

        private static bool Is(string name, string word) => string.Equals(name, word, StringComparison.OrdinalIgnoreCase);
    }
}
