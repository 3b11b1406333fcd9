using System;
using System.Collections.Generic;
using System.Linq;

namespace SecureFtp.Security
{
    /// <summary>What a security mechanism is called: its AUTH name (what goes on the wire, RFC 2228 s.3), the short
    /// name PowerShell users type (<see cref="FtpMechanism"/>'s member name for the built-in ones), and the aliases
    /// the drafts gave it (TLS-C, TLS-P). Every spelling resolves to the same mechanism, case-insensitively.</summary>
    public sealed class MechanismName
    {
        public MechanismName(string authName, string shortName, params string[] aliases)
        {
            if (string.IsNullOrWhiteSpace(authName)) throw new ArgumentException("A mechanism needs an AUTH name.", nameof(authName));
            if (string.IsNullOrWhiteSpace(shortName)) throw new ArgumentException("A mechanism needs a short name.", nameof(shortName));
            AuthName = authName.Trim();
            ShortName = shortName.Trim();
            Aliases = (aliases ?? Array.Empty<string>()).Select(a => a.Trim()).ToArray();
        }

        /// <summary>The AUTH argument, e.g. "KEA-SKIPJACK".</summary>
        public string AuthName { get; }

        /// <summary>The name without punctuation, e.g. "KeaSkipjack".</summary>
        public string ShortName { get; }

        /// <summary>Other AUTH names for the same mechanism, e.g. "TLS-C" for TLS (draft-murray-auth-ftp-ssl).</summary>
        public IReadOnlyList<string> Aliases { get; }

        /// <summary>The names a server lists in FEAT's AUTH line: the AUTH name, then its aliases.</summary>
        public IEnumerable<string> AuthNames => new[] { AuthName }.Concat(Aliases);

        /// <summary>Every spelling, for completion and error messages.</summary>
        public IEnumerable<string> AllNames => new[] { AuthName, ShortName }.Concat(Aliases).Distinct(StringComparer.OrdinalIgnoreCase);

        /// <summary>True when <paramref name="argument"/>, an AUTH command's argument, names this mechanism on the
        /// wire: the AUTH name or an alias, never the short name.</summary>
        public bool IsAuthName(string argument)
        {
            string trimmed = (argument ?? "").Trim();
            return AuthNames.Any(n => string.Equals(n, trimmed, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>True when <paramref name="name"/> is any of this mechanism's names (what users type).</summary>
        public bool Matches(string name)
        {
            string trimmed = (name ?? "").Trim();
            return AllNames.Any(n => string.Equals(n, trimmed, StringComparison.OrdinalIgnoreCase));
        }

        public override string ToString() => AuthName;
    }

    /// <summary>A registration in a <see cref="MechanismRegistry{T}"/>: anything that carries a mechanism's names.</summary>
    public interface IMechanismRegistration
    {
        MechanismName Name { get; }
    }

    /// <summary>One side's mechanisms by name (the client's <see cref="ClientMechanisms"/>, the server's
    /// <c>ServerMechanisms</c>). Names resolve case-insensitively through the AUTH name, the short name and the
    /// aliases, so "KEA-SKIPJACK", "KeaSkipjack" and "kea-skipjack" are one mechanism. Thread-safe; registration
    /// order is the order mechanisms are listed (and, on the client, tried by Auto).</summary>
    public sealed class MechanismRegistry<T> where T : class, IMechanismRegistration
    {
        private readonly object _gate = new object();
        private readonly string _side;
        private List<T> _entries = new List<T>();

        /// <param name="side">"client" or "server": named in the error for an unknown mechanism.</param>
        /// <param name="entries">The registrations to start with; more can be added later.</param>
        public MechanismRegistry(string side, IEnumerable<T>? entries = null)
        {
            _side = side;
            foreach (var entry in entries ?? Array.Empty<T>()) Register(entry);
        }

        /// <summary>Every registration, in registration order.</summary>
        public IReadOnlyList<T> All
        {
            get { lock (_gate) return _entries; }
        }

        /// <summary>Adds a mechanism. A name already taken by another mechanism is refused: two mechanisms answering
        /// to one name would make the choice depend on registration order.</summary>
        public MechanismRegistry<T> Register(T registration)
        {
            if (registration == null) throw new ArgumentNullException(nameof(registration));
            lock (_gate)
            {
                foreach (var name in registration.Name.AllNames)
                {
                    var taken = _entries.FirstOrDefault(e => e.Name.Matches(name));
                    if (taken != null)
                        throw new ArgumentException($"The {_side} mechanism name '{name}' is already registered for {taken.Name.AuthName}.", nameof(registration));
                }
                // Copy on write: readers enumerate a list that never changes under them.
                _entries = new List<T>(_entries) { registration };
            }
            return this;
        }

        /// <summary>A copy to add to without changing this one (a test's own mechanisms, say).</summary>
        public MechanismRegistry<T> Clone() => new MechanismRegistry<T>(_side, All);

        public bool TryResolve(string name, out T registration)
        {
            registration = All.FirstOrDefault(e => e.Name.Matches(name))!;
            return registration != null;
        }

        /// <summary>The mechanism <paramref name="name"/> names, or an <see cref="FtpException"/> (MechanismUnknown)
        /// that lists the names this side knows.</summary>
        public T Resolve(string name)
        {
            if (TryResolve(name, out var registration)) return registration;
            throw Unknown(name);
        }

        /// <summary>The error for a name no registration answers to; <paramref name="extra"/> are further names the
        /// caller accepts (the client's policy words Auto, ImplicitTls, None).</summary>
        public FtpException Unknown(string name, IEnumerable<string>? extra = null)
            => new FtpException(FtpErrorKind.NotSupported, "MechanismUnknown",
                $"'{name}' is not a known {_side} security mechanism. Known: {Describe(extra)}.");

        /// <summary>"TLS (Tls, TLS-C), SSL (Ssl, TLS-P), ...".</summary>
        public string Describe(IEnumerable<string>? extra = null)
        {
            var parts = All.Select(e =>
            {
                var others = e.Name.AllNames.Skip(1).ToList();
                return others.Count == 0 ? e.Name.AuthName : $"{e.Name.AuthName} ({string.Join(", ", others)})";
            });
            return string.Join(", ", parts.Concat(extra ?? Array.Empty<string>()));
        }
    }
}
