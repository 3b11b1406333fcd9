using System;
using System.Collections.Generic;
using System.Net;
using SecureFtp.Trust;

namespace SecureFtp.Security.Kea
{
    /// <summary>A security label of RFC 2773 Figures 2 and 3: type 0 (absent, no value) or 1 (MSP, SDN.701;
    /// carried as opaque octets). Types 2 to 255 are reserved and refused.</summary>
    public sealed class KeaSecurityLabel
    {
        public const byte AbsentType = 0;
        public const byte MspType = 1;

        public static KeaSecurityLabel Absent { get; } = new KeaSecurityLabel(AbsentType, Array.Empty<byte>());

        public byte Type { get; }
        private readonly byte[] _value;
        public byte[] GetValue() => (byte[])_value.Clone();
        internal int Length => _value.Length;

        public KeaSecurityLabel(byte type, byte[] value)
        {
            if (type == AbsentType && value.Length != 0)
                throw new ArgumentException("An absent label (type 0) has no value (RFC 2773 s.2.0).", nameof(value));
            if (type > MspType)
                throw new ArgumentException($"Label type {type} is reserved (RFC 2773 Figure 3).", nameof(type));
            if (value.Length > MaxLength)
                throw new ArgumentException($"A label list is at most {MaxLength} octets.", nameof(value));
            Type = type;
            _value = (byte[])value.Clone();
        }

        /// <summary>An MSP (SDN.701) label list, as encoded octets.</summary>
        public static KeaSecurityLabel Msp(byte[] encodedLabelList) => new KeaSecurityLabel(MspType, encodedLabelList);

        /// <summary>Label-Type (1) || Label-Length (4, big-endian) || Label-List.</summary>
        internal void WriteTo(byte[] buffer, int offset)
        {
            buffer[offset] = Type;
            buffer[offset + 1] = (byte)(_value.Length >> 24);
            buffer[offset + 2] = (byte)(_value.Length >> 16);
            buffer[offset + 3] = (byte)(_value.Length >> 8);
            buffer[offset + 4] = (byte)_value.Length;
            Buffer.BlockCopy(_value, 0, buffer, offset + 5, _value.Length);
        }

        internal const int HeaderSize = 5;
        /// <summary>Labels longer than this are refused: a label list is a few hundred octets at most, and the
        /// bound keeps a hostile length from making us allocate.</summary>
        internal const int MaxLength = 8192;

        /// <summary>Reads a label at <paramref name="offset"/> that must end exactly at <paramref name="end"/>.</summary>
        internal static KeaSecurityLabel Read(byte[] buffer, int offset, int end, string what)
        {
            if (end - offset < HeaderSize) throw KeaErrors.Malformed(what, "the security label is shorter than its 5-octet header");
            byte type = buffer[offset];
            long length = (long)buffer[offset + 1] << 24 | (long)buffer[offset + 2] << 16 | (long)buffer[offset + 3] << 8 | buffer[offset + 4];
            if (length != end - offset - HeaderSize)
                throw KeaErrors.Malformed(what, $"the label length says {length} octets but {end - offset - HeaderSize} are present");
            if (length > MaxLength) throw KeaErrors.Malformed(what, $"the label list is {length} octets, more than the {MaxLength} allowed");
            if (type > MspType) throw KeaErrors.Security("KeaLabelRefused", $"the {what} carries label type {type}, which RFC 2773 reserves");
            if (type == AbsentType && length != 0) throw KeaErrors.Malformed(what, "an absent label (type 0) must have length 0");
            var value = new byte[length];
            Buffer.BlockCopy(buffer, offset + HeaderSize, value, 0, (int)length);
            return new KeaSecurityLabel(type, value);
        }

        public override string ToString() => Type == AbsentType ? "absent" : $"MSP ({_value.Length} octets)";
    }

    /// <summary>What a KEA-SKIPJACK client needs: its credential and how to trust the server.</summary>
    public sealed class KeaClientOptions
    {
        public KeaClientOptions(KeaCredential credential, string host, int port)
        {
            Credential = credential ?? throw new ArgumentNullException(nameof(credential));
            Host = host;
            Port = port;
            if (credential.Issuer != null) TrustedIssuers.Add(credential.Issuer);
        }

        public KeaCredential Credential { get; }

        /// <summary>The server, as the user named it: the trust store is keyed by it.</summary>
        public string Host { get; }
        public int Port { get; }

        /// <summary>CAs whose KEA certificates are trusted for any server ("Chain"). Starts with the CA that issued
        /// our own credential, when the credential file carries it: the site CA, as with FORTEZZA cards.</summary>
        public IList<KeaIssuer> TrustedIssuers { get; } = new List<KeaIssuer>();

        /// <summary>Server KEA certificates recorded per host, type "KEA": a certificate no trusted CA issued is
        /// decided here by <see cref="TrustVerifier"/>, as for X-SafeTP1 keys. Null = CAs only.</summary>
        public ITrustStore? TrustStore { get; set; }

        /// <summary>What to do with an unknown server key (accept, ask, refuse); as the other mechanisms.</summary>
        public TrustPolicy Policy { get; set; } = new TrustPolicy();

        /// <summary>The address the control connection reached: keys are also recorded and checked under it.</summary>
        public IPAddress? PeerAddress { get; set; }

        /// <summary>The label list offered for the session (RFC 2773 Figure 2); absent by default.</summary>
        public KeaSecurityLabel Label { get; set; } = KeaSecurityLabel.Absent;
    }

    /// <summary>What a KEA-SKIPJACK server needs: its credential, whom it trusts, and which users each client
    /// certificate may log in as.</summary>
    public sealed class KeaServerOptions
    {
        public KeaServerOptions(KeaCredential credential)
        {
            Credential = credential ?? throw new ArgumentNullException(nameof(credential));
            if (credential.Issuer != null) TrustedIssuers.Add(credential.Issuer);
        }

        public KeaCredential Credential { get; }

        /// <summary>CAs whose client certificates are accepted; starts with the CA that issued the server's own
        /// credential. A client certificate that does not chain to one of them is accepted only when
        /// <see cref="Users"/> maps its fingerprint. Being accepted is not being allowed to log in: that is
        /// <see cref="Users"/>' decision.</summary>
        public IList<KeaIssuer> TrustedIssuers { get; } = new List<KeaIssuer>();

        public KeaUserMap Users { get; } = new KeaUserMap();

        /// <summary>Decides whether a client's label list is acceptable; null = accept types 0 and 1.</summary>
        public Func<KeaSecurityLabel, bool>? AcceptLabel { get; set; }
    }

    /// <summary>Maps a client's KEA certificate to the user names it may log in as: by certificate fingerprint
    /// (SHA-256 of its SubjectPublicKeyInfo, as <see cref="KeaCredential.Fingerprint"/>) or by subject DN.
    /// The user "*" allows any user name.</summary>
    public sealed class KeaUserMap
    {
        private readonly Dictionary<string, HashSet<string>> _byFingerprint = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, HashSet<string>> _bySubject = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Maps a fingerprint (any spelling <see cref="KeyFingerprint.Normalize"/> accepts) to users.</summary>
        public void MapFingerprint(string fingerprint, params string[] users) => Add(_byFingerprint, KeyFingerprint.Normalize(fingerprint), users);

        public void MapSubject(string subject, params string[] users) => Add(_bySubject, KeaCertificateAuthority.ToName(subject).ToString(), users);

        internal bool HasFingerprint(string fingerprint) => _byFingerprint.ContainsKey(KeyFingerprint.Normalize(fingerprint));

        /// <summary>True when the certificate with this fingerprint and subject may log in as <paramref name="user"/>.</summary>
        public bool Allows(string fingerprint, string subject, string user)
        {
            return Match(_byFingerprint, KeyFingerprint.Normalize(fingerprint), user)
                || Match(_bySubject, KeaCertificateAuthority.ToName(subject).ToString(), user);
        }

        private static bool Match(Dictionary<string, HashSet<string>> map, string key, string user) =>
            map.TryGetValue(key, out var users) && (users.Contains("*") || users.Contains(user));

        private static void Add(Dictionary<string, HashSet<string>> map, string key, string[] users)
        {
            if (!map.TryGetValue(key, out var set)) map[key] = set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var user in users) set.Add(user);
        }
    }
}
