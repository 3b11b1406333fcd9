using System;
using System.Collections.Generic;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Trust;

namespace SecureFtp.Security
{
    /// <summary>A client-side mechanism as the negotiation policy knows it: its names and the factory that makes
    /// the <see cref="IClientSecurityMechanism"/> for one connection. Each mechanism's folder provides its own
    /// (TlsClientMechanism, SafeTpMechanism, KeaMechanism); <see cref="ClientMechanisms"/> lists them.</summary>
    public sealed class ClientMechanismRegistration : IMechanismRegistration
    {
        public ClientMechanismRegistration(MechanismName name, Func<ClientMechanismContext, IClientSecurityMechanism> create)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Create = create ?? throw new ArgumentNullException(nameof(create));
        }

        public MechanismName Name { get; }

        /// <summary>Makes the mechanism for one connection attempt.</summary>
        public Func<ClientMechanismContext, IClientSecurityMechanism> Create { get; }

        /// <summary>Whether -Mechanism Auto tries this mechanism with these options (KEA-SKIPJACK only when a KEA
        /// credential is configured: its exchange cannot start without one). Null: never by Auto, only by name.</summary>
        public Func<FtpClientOptions, bool>? OfferedByAuto { get; set; }

        /// <summary>The replies to AUTH by which a server says it will run this mechanism: 334 (send ADAT) or 235 for
        /// RFC 2228 mechanisms (the default), 234 for TLS. Test-SecureFtpServer reads a server's offer from them.</summary>
        public IReadOnlyList<int> AuthAcceptedCodes { get; set; } = new[] { 334, 235 };

        /// <summary>True when an accepted AUTH turns the connection into TLS (the server then waits for a ClientHello,
        /// so a probe closes the connection instead of sending QUIT).</summary>
        public bool StartsTls { get; set; }

        public override string ToString() => Name.AuthName;
    }

    /// <summary>What a client mechanism factory gets: the connection's options, the record of the cleartext
    /// conversation (for the SafeTP paper's DIGT check, section 5.10), and the trust store the options name.</summary>
    public sealed class ClientMechanismContext
    {
        private ITrustStore? _trustStore;

        public ClientMechanismContext(FtpClientOptions options, ControlTranscript? transcript)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
            Transcript = transcript;
        }

        public FtpClientOptions Options { get; }

        public ControlTranscript? Transcript { get; }

        /// <summary>The trust store at <see cref="FtpClientOptions.TrustStorePath"/>, opened on first use.</summary>
        public ITrustStore TrustStore => _trustStore ??= new FileTrustStore(Options.TrustStorePath);
    }
}
