using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Protocol;
using SecureFtp.Security.Tls;
using SecureFtp.Trust;

namespace SecureFtp.Diagnostics
{
    // Test-SecureFtpServer's probe: which mechanisms.
    internal sealed partial class ProbeRun
    {
        private async Task MechanismsAsync(CancellationToken ct)
        {
            // Every mechanism the client knows, as the client would ask for it.
            foreach (var mechanism in ClientMechanisms.Default.All)
            {
                string name = mechanism.Name.AuthName;
                using var connection = await OpenPlainAsync(ct).ConfigureAwait(false);
                var reply = await connection.ExecuteAsync("AUTH " + name, ct).ConfigureAwait(false);
                bool offered = mechanism.AuthAcceptedCodes.Contains(reply.Code);
                _result.Mechanisms.Add(new ProbedMechanism { Name = name, Offered = offered, Port = _options.Port, Reply = reply.ToString() });
                // After 234 the server waits for a ClientHello: closing is the clean way out. An ADAT mechanism
                // waits for ADAT; QUIT ends the exchange before any key material is sent.
                if (!(offered && mechanism.StartsTls)) await QuitAsync(connection, ct).ConfigureAwait(false);
            }

            if (_options.ImplicitTlsPort <= 0) return;
            var implicitTls = new ProbedMechanism { Name = ProbedMechanism.ImplicitTls, Port = _options.ImplicitTlsPort };
            try
            {
                var (connection, session) = await OpenTlsAsync(TlsRoute.Implicit, null, null, true, ct).ConfigureAwait(false);
                using (connection)
                using (session)
                {
                    implicitTls.Offered = true;
                    implicitTls.Reply = "TLS handshake completed, then a 220 greeting";
                    await QuitAsync(connection, ct).ConfigureAwait(false);
                }
            }
            catch (FtpException e) when (e.Kind is FtpErrorKind.Connection or FtpErrorKind.Security or FtpErrorKind.Timeout or FtpErrorKind.Protocol)
            {
                implicitTls.Reply = e.Message;
            }
            _result.Mechanisms.Add(implicitTls);
        }
    }
}
