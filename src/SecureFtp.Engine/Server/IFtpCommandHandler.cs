using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Server
{
    /// <summary>What stands behind the security front end (<see cref="FtpServerSession"/>): the embedded file
    /// server (root mode) or the legacy ftpd (upstream mode). The front end has already dealt with security
    /// (AUTH, ADAT, PBSZ, PROT, CCC, protected commands), the security policy, and the client side of data
    /// connections (PASV, EPSV, PORT, EPRT); everything else comes here.</summary>
    internal interface IFtpCommandHandler : IDisposable
    {
        /// <summary>Prepares the session and returns the greeting (root: the banner; upstream: the ftpd's 220).</summary>
        Task<FtpReply> StartAsync(CancellationToken ct);

        /// <summary>Handles one command. Replies go through <paramref name="session"/>; a data transfer is started
        /// with <see cref="FtpServerSession.StartTransfer"/> and runs while the session reads ABOR or STAT.</summary>
        Task HandleAsync(FtpServerSession session, string verb, string argument, CancellationToken ct);

        /// <summary>The FEAT lines of the file service (without the security ones, which the front end adds).</summary>
        Task<IReadOnlyList<string>> GetFeaturesAsync(CancellationToken ct);

        /// <summary>Forgets the user and every transfer parameter (REIN, and AUTH after a login, RFC 4217 s.4).</summary>
        Task ReinitializeAsync(CancellationToken ct);

        /// <summary>The client is leaving (QUIT): the handler says goodbye to anything behind it.</summary>
        Task<FtpReply> QuitAsync(CancellationToken ct);

        /// <summary>The SafeTP paper, s.6.3: while data protection is on, only commands the front end understands may pass.
        /// Root mode understands everything it answers; upstream mode lists what it forwards knowingly.</summary>
        bool IsKnownCommand(string verb);
    }
}
