using System;
using System.Collections.Generic;
using System.Linq;
using SecureFtp.Security;
using SecureFtp.Security.Kea;
using SecureFtp.Security.SafeTp;
using SecureFtp.Security.Tls;

namespace SecureFtp.Server
{
    /// <summary>The server's mechanisms, by AUTH name: the one place the server side lists them. A new mechanism is a
    /// folder under Security/ with its <see cref="ServerMechanismRegistration"/>, one line here, and (for an RFC 2228
    /// mechanism) its factory given to <see cref="SecureFtpServerOptions.AddRfc2228Mechanism"/> with the server's key.
    /// The client's twin is <see cref="ClientMechanisms"/>; both accept the same names.</summary>
    public static class ServerMechanisms
    {
        public static MechanismRegistry<ServerMechanismRegistration> Default { get; } = new MechanismRegistry<ServerMechanismRegistration>("server", new[]
        {
            new ServerMechanismRegistration(TlsNames.Tls, ServerMechanismKind.Tls),
            new ServerMechanismRegistration(TlsNames.Ssl, ServerMechanismKind.Tls, impliesPrivateData: true),
            SafeTpMechanism.ServerRegistration,
            KeaMechanism.ServerRegistration,
        });

        /// <summary>The mechanism <paramref name="name"/> names for this server: a registered one, or an RFC 2228
        /// mechanism the options were given a factory for under a name the registry does not know. Null when neither.</summary>
        public static ServerMechanismRegistration? Find(SecureFtpServerOptions options, string name)
        {
            if (Default.TryResolve(name, out var registered)) return registered;
            string trimmed = (name ?? "").Trim();
            return options.Rfc2228Mechanisms.Keys.Where(k => string.Equals(k.Trim(), trimmed, StringComparison.OrdinalIgnoreCase))
                .Select(k => new ServerMechanismRegistration(new MechanismName(k, k), ServerMechanismKind.Rfc2228))
                .FirstOrDefault();
        }

        /// <summary>Like <see cref="Find"/>, but an unknown name is an <see cref="FtpException"/> (MechanismUnknown) that
        /// lists the names this server knows.</summary>
        public static ServerMechanismRegistration Resolve(SecureFtpServerOptions options, string name)
        {
            var found = Find(options, name);
            if (found != null) return found;
            var added = options.Rfc2228Mechanisms.Keys.Where(k => !Default.TryResolve(k, out _));
            throw Default.Unknown(name, added);
        }

        /// <summary>The AUTH name a server option or cmdlet argument stands for ("KeaSkipjack" becomes "KEA-SKIPJACK");
        /// an unknown name comes back trimmed, for validation to report.</summary>
        public static string ToAuthName(string name)
            => Default.TryResolve(name, out var registered) ? registered.Name.AuthName : (name ?? "").Trim();

        /// <summary>What this server offers, in the order of <see cref="SecureFtpServerOptions.Mechanisms"/>: TLS
        /// mechanisms when it has a certificate, RFC 2228 mechanisms when it has their factory. Unknown names are
        /// left out (the server refuses to start with one).</summary>
        public static IEnumerable<ServerMechanismRegistration> Offered(SecureFtpServerOptions options)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in options.Mechanisms)
            {
                var mechanism = Find(options, name);
                if (mechanism == null || !seen.Add(mechanism.Name.AuthName)) continue;
                if (CanRun(options, mechanism)) yield return mechanism;
            }
        }

        /// <summary>The server half factory for an RFC 2228 mechanism, whichever of its names the options used.</summary>
        public static Func<SecureFtpServerConnection, IRfc2228Security>? Rfc2228Factory(SecureFtpServerOptions options, ServerMechanismRegistration mechanism)
        {
            foreach (var entry in options.Rfc2228Mechanisms)
                if (mechanism.Name.Matches(entry.Key)) return entry.Value;
            return null;
        }

        private static bool CanRun(SecureFtpServerOptions options, ServerMechanismRegistration mechanism)
            => mechanism.Kind == ServerMechanismKind.Tls ? options.Certificate != null : Rfc2228Factory(options, mechanism) != null;
    }
}
