using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Policy;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;

namespace SecureFtp
{
    // Connecting: TCP, security negotiation under the user's policy, login, FEAT, data protection.
    public sealed partial class FtpClient
    {
        private static async Task<FtpClient> ConnectCoreAsync(FtpClientOptions options, CancellationToken ct)
        {
            if (string.IsNullOrWhiteSpace(options.Host))
                throw new ArgumentException("A host name or address is required.", nameof(options));
            CheckLimits(options);
            // Before any connection is opened: a credential FTP cannot carry is refused with nothing sent.
            FtpCommand.CheckCredential(options.Credential?.UserName ?? options.UserName, "user name", options.Encoding);
            FtpCommand.CheckCredential(options.Credential?.Password, "password", options.Encoding);
            FtpCommand.CheckCredential(options.Credential?.Domain, "account", options.Encoding);
            var client = new FtpClient(options.Clone());
            client.HideSecretsInMessages();
            try
            {
                await client.OpenAndNegotiateAsync(greetingExpected: true, ct).ConfigureAwait(false);
                return client;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        private static void CheckLimits(FtpClientOptions options)
        {
            if (options.MaxPreliminaryReplies < 0)
                throw new ArgumentOutOfRangeException(nameof(options), "MaxPreliminaryReplies cannot be negative.");
            if (options.MaxReplyLines < 1)
                throw new ArgumentOutOfRangeException(nameof(options), "MaxReplyLines must be at least 1.");
            if (options.MaxReplyBytes < FtpReplyReader.MaxLineBytes)
                throw new ArgumentOutOfRangeException(nameof(options), $"MaxReplyBytes must be at least {FtpReplyReader.MaxLineBytes} (one reply line).");
            if (options.ReadTimeout <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(options), "ReadTimeout must be positive.");
        }

        private SecurityNegotiationContext NewContext() => new SecurityNegotiationContext(Options)
        {
            Warn = Options.Warning,
            Verbose = Options.Verbose,
        };

        /// <summary>Opens the control connection (unless REIN left one open), negotiates security, logs in and
        /// sets data protection. On REIN, <paramref name="greetingExpected"/> is false: the 220 was the REIN reply.</summary>
        private async Task OpenAndNegotiateAsync(bool greetingExpected, CancellationToken ct)
        {
            await OpenAndSecureAsync(greetingExpected, ct).ConfigureAwait(false);
            await LoginAsync(ct).ConfigureAwait(false);
            await ReadFeaturesAsync(ct).ConfigureAwait(false);
            await ApplyInitialProtectionAsync(ct).ConfigureAwait(false);
            _currentType = null;
        }

        /// <summary>The half of <see cref="OpenAndNegotiateAsync"/> before any credential: the control connection,
        /// the greeting, and the security negotiation (the server's key or certificate verified) under the policy.
        /// The client proxy stops here until its legacy client has sent USER and PASS.</summary>
        private async Task OpenAndSecureAsync(bool greetingExpected, CancellationToken ct)
        {
            var order = MechanismOrder.Expand(Options);
            Port = Options.EffectivePort;
            if (greetingExpected)
            {
                _control = await FtpControlConnection.OpenAsync(Options.Host, Port, Options.ConnectTimeout, Options.Encoding, ct).ConfigureAwait(false);
                _control.Timeout = Options.ReadTimeout;
                _control.MaxPreliminaryReplies = Options.MaxPreliminaryReplies;
                _control.MaxReplyLines = Options.MaxReplyLines;
                _control.MaxReplyBytes = Options.MaxReplyBytes;
                _control.Trace = Options.Trace;
                // DIGT (the SafeTP paper, s.5.10) compares the whole cleartext conversation, greeting included.
                _transcript = ControlTranscript.AttachTo(_control);
                if (order.IsImplicit)
                {
                    // Implicit FTPS: TLS from the first byte; the greeting arrives protected.
                    _security = await ClientMechanisms.StartImplicitTlsAsync(_control, NewContext(), ct).ConfigureAwait(false);
                    Security = _security.Details;
                    CommandChannelProtected = true;
                }
                var greeting = await _control.ReadReplyAsync(ct).ConfigureAwait(false);
                if (greeting.Code == 120) greeting = await _control.ReadReplyAsync(ct).ConfigureAwait(false);
                if (greeting.Code != 220)
                    throw new FtpException(greeting.Code == 421 ? FtpErrorKind.Connection : FtpErrorKind.Protocol, "ServiceNotReady",
                        $"{Options.Host}:{Port} did not greet with 220 but with: {greeting}", greeting);
                Greeting = greeting.Message;
                ConnectedAt = DateTime.UtcNow;
            }

            // RFC 4217 s.10.3: the user decides what goes before AUTH (e.g. a SITE command for a proxy).
            foreach (var command in Options.PreAuthCommands)
            {
                var reply = await Control.ExecuteAsync(command, ct).ConfigureAwait(false);
                if (!reply.IsSuccess) throw FtpException.FromReply(command, reply);
            }

            if (_security == null)
                await NegotiateSecurityAsync(order, ct).ConfigureAwait(false);
            // The record only matters up to the security exchange; keeping it would grow with the session.
            Control.Transcript = null;
        }

        /// <summary>Tries each allowed AUTH mechanism in order. A mechanism the server does not support (500/502/504)
        /// moves on to the next; a mechanism that starts and fails stops everything (never a reason to fall back).
        /// When none is supported the fallback policy decides, before any credential is sent.</summary>
        private async Task NegotiateSecurityAsync(MechanismPlan order, CancellationToken ct)
        {
            var refused = new List<string>();
            foreach (var registration in order.Mechanisms)
            {
                var mechanism = registration.Create(new ClientMechanismContext(Options, _transcript ??= ControlTranscript.AttachTo(Control)));
                var session = await mechanism.NegotiateAsync(Control, NewContext(), ct).ConfigureAwait(false);
                if (session != null)
                {
                    _security = session;
                    Security = session.Details;
                    CommandChannelProtected = true;
                    Options.Verbose?.Invoke($"Security agreed with {Options.Host}: {Security}.");
                    return;
                }
                refused.Add(mechanism.Name);
            }

            Security = new SecurityDetails { Mechanism = "None" };
            if (!order.WantsSecurity) return; // the user asked for plain FTP and nothing else

            string what = refused.Count > 0
                ? $"{Options.Host} refused every security mechanism offered to it (AUTH {string.Join(", AUTH ", refused)})"
                : $"No security mechanism could be tried with {Options.Host}";
            await RefuseCleartextForTrustedHostAsync(what).ConfigureAwait(false);
            if (order.AllowsCleartext)
            {
                Options.Verbose?.Invoke(what + "; continuing in cleartext as the mechanism list includes None.");
                return;
            }
            switch (Options.FallbackPolicy)
            {
                case FallbackPolicy.Allow:
                    Options.Verbose?.Invoke(what + "; continuing in cleartext (fallback policy Allow).");
                    return;
                case FallbackPolicy.Warn:
                    Options.Warning?.Invoke(what + "; continuing in CLEARTEXT: the password and all data cross the network unprotected (fallback policy Warn).");
                    return;
                default:
                    await QuietQuitAsync().ConfigureAwait(false);
                    throw new FtpException(FtpErrorKind.Policy, "SecurityNotAvailable",
                        what + ". No credential was sent: the fallback policy is Refuse and the mechanism list does not include None.");
            }
        }

        /// <summary>The SafeTP paper, s.5.6 (coerced fallback): a host we hold a key or pin for must be answering securely;
        /// if it is not, someone may be stripping AUTH. Never fall back for it, whatever the policy.</summary>
        private async Task RefuseCleartextForTrustedHostAsync(string what)
        {
            var store = new Trust.FileTrustStore(Options.TrustStorePath);
            bool known = store.HasAnyKeyFor(Options.Host, Port) || store.HasAnyKeyFor(Control.RemoteEndPoint.Address.ToString(), Port);
            if (!known && Options.PinnedFingerprints.Count == 0) return;
            await QuietQuitAsync().ConfigureAwait(false);
            throw new FtpException(FtpErrorKind.Policy, "CoercedFallbackRefused",
                what + $". The trust store at {store.Location} holds a key or pin for this server, so it has spoken securely before: " +
                "someone may be stripping the security negotiation. No credential was sent, and cleartext is refused whatever the fallback policy.");
        }

        private async Task LoginAsync(CancellationToken ct)
        {
            var cred = Options.Credential;
            // -UserName alone: a login the server grants from the client certificate (232), never with a password.
            bool certificateLogin = cred == null && !string.IsNullOrEmpty(Options.UserName);
            string user = certificateLogin ? Options.UserName! : string.IsNullOrEmpty(cred?.UserName) ? "anonymous" : cred!.UserName;
            string pass = cred == null || string.IsNullOrEmpty(cred.UserName) ? "anonymous@" : cred.Password ?? "";
            var reply = await Control.ExecuteAsync("USER " + FtpCommand.CheckArgument(user, "user name"), ct).ConfigureAwait(false);
            if (reply.Code == 331)
            {
                if (certificateLogin)
                    throw new FtpException(FtpErrorKind.Authentication, "PasswordRequired",
                        $"{Options.Host} asks for a password for '{user}' ({reply.Code} {reply.Message}): it did not log the user in from the " +
                        (Options.ClientCertificate != null ? "client certificate" : "security exchange (no client certificate was given)") +
                        ". No password was sent.", reply);
                reply = await Control.ExecuteAsync("PASS " + FtpCommand.CheckArgument(pass, "password"), ct).ConfigureAwait(false);
            }
            if (reply.Code == 332)
            {
                string? account = cred?.Domain;
                if (string.IsNullOrEmpty(account))
                    throw new FtpException(FtpErrorKind.Authentication, "AccountRequired", $"{Options.Host} asks for an account (ACCT) after login; give it as the credential's domain.", reply);
                reply = await Control.ExecuteAsync("ACCT " + FtpCommand.CheckArgument(account!, "account"), ct).ConfigureAwait(false);
            }
            // 232 (RFC 2228 s.4, RFC 4217 s.12.2): logged in, authorized by the security exchange (the client
            // certificate), with no password asked for.
            if (reply.Code != 230 && reply.Code != 202 && reply.Code != 232)
            {
                var kind = reply.Code is 530 or 331 or 332 ? FtpErrorKind.Authentication : reply.Code is 534 or 533 or 550 ? FtpErrorKind.Policy : FtpErrorKind.Authentication;
                string hint = reply.Code is 530 or 534 or 550 && Security.Mechanism == "None" ? " The server may require a secure connection." : "";
                throw new FtpException(kind, kind == FtpErrorKind.Authentication ? "LoginRefused" : "SecurityPolicyNotMet",
                    $"Login to {Options.Host} as '{user}' was refused: {reply.Code} {WithoutSecrets(reply.Message, cred)}{hint}", reply);
            }
            if (reply.Code == 232)
                Options.Verbose?.Invoke($"{Options.Host} logged '{user}' in from the security exchange (232, RFC 4217 s.12.2); no password was sent.");
            UserName = user;
        }

        /// <summary>Whatever a server puts in its replies (some echo what they were sent), the password and account
        /// never reach the verbose, warning or trace (debug) streams either.</summary>
        private void HideSecretsInMessages()
        {
            var o = Options;
            if (o.Credential == null) return;
            if (o.Verbose is { } verbose) o.Verbose = m => verbose(WithoutSecrets(m, o.Credential));
            if (o.Warning is { } warning) o.Warning = m => warning(WithoutSecrets(m, o.Credential));
            if (o.Trace is { } trace) o.Trace = (sent, line) => trace(sent, WithoutSecrets(line, o.Credential));
        }

        /// <summary>A server's refusal may quote what it was sent (some echo the password back): the credential's
        /// password and account never reach an error message, whatever the server put in its reply.</summary>
        private static string WithoutSecrets(string text, NetworkCredential? cred)
        {
            foreach (var secret in new[] { cred?.Password, cred?.Domain })
                if (!string.IsNullOrEmpty(secret) && secret!.Length >= 3)
                    text = text.Replace(secret, "****");
            return text;
        }

        private async Task ReadFeaturesAsync(CancellationToken ct)
        {
            var reply = await Control.ExecuteAsync("FEAT", ct).ConfigureAwait(false);
            Features = reply.Code == 211
                ? reply.Lines.Skip(1).Take(reply.Lines.Count - 2).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
                : Array.Empty<string>();
            if (Options.UseUtf8 && HasFeature("UTF8"))
                await Control.ExecuteAsync("OPTS UTF8 ON", ct).ConfigureAwait(false);
            var syst = await Control.ExecuteAsync("SYST", ct).ConfigureAwait(false);
            SystemType = syst.IsCompletion ? syst.Message : null;
        }

        /// <summary>True when FEAT listed <paramref name="name"/> (the first word of a feature line).</summary>
        public bool HasFeature(string name) => Features.Any(f =>
            f.Equals(name, StringComparison.OrdinalIgnoreCase) || f.StartsWith(name + " ", StringComparison.OrdinalIgnoreCase));

        private async Task ApplyInitialProtectionAsync(CancellationToken ct)
        {
            if (_security == null)
            {
                if (Options.DataProtection is DataProtectionLevel requested && requested != DataProtectionLevel.Clear)
                    throw new FtpException(FtpErrorKind.Policy, "DataProtectionUnavailable",
                        $"Data protection {requested} was required but the session with {Options.Host} has no security mechanism.");
                DataProtection = DataProtectionLevel.Clear;
                return;
            }
            var level = Options.DataProtection ?? DataProtectionLevel.Private;
            if (_security.ImpliesPrivateData && level == DataProtectionLevel.Private)
            {
                // AUTH SSL / TLS-P (draft-murray-auth-ftp-ssl): data connections are protected without PBSZ/PROT.
                DataProtection = DataProtectionLevel.Private;
                return;
            }
            await SetProtCoreAsync(level, ct).ConfigureAwait(false);
        }

        private bool _pbszSent;
        private ControlTranscript? _transcript;

        private async Task SetProtCoreAsync(DataProtectionLevel level, CancellationToken ct)
        {
            if (_security == null)
            {
                if (level == DataProtectionLevel.Clear) { DataProtection = level; return; }
                throw new FtpException(FtpErrorKind.Policy, "DataProtectionUnavailable", $"PROT {level.ToProtCode()} needs a security mechanism, and the session with {Options.Host} has none (RFC 2228: PROT follows a security exchange).");
            }
            if (!_security.Supports(level))
                throw new FtpException(FtpErrorKind.NotSupported, "ProtectionLevelNotSupported", $"The {Security.Mechanism} mechanism has no {level} data protection level.");
            if (!_pbszSent)
            {
                int proposed = _security.ProposedBufferSize;
                var pbsz = await Control.ExecuteAsync("PBSZ " + proposed, ct).ConfigureAwait(false);
                if (pbsz.Code != 200)
                    throw new FtpException(FtpErrorKind.Policy, "PbszRefused", $"{Options.Host} refused PBSZ {proposed}: {pbsz.Code} {pbsz.Message}", pbsz);
                // RFC 2228 s.3: the server may answer "PBSZ=n" with a smaller size.
                int accepted = proposed;
                int i = pbsz.Message.IndexOf("PBSZ=", StringComparison.OrdinalIgnoreCase);
                if (i >= 0 && int.TryParse(new string(pbsz.Message.Substring(i + 5).TakeWhile(char.IsDigit).ToArray()), out int n) && n < proposed) accepted = n;
                _security.SetBufferSize(accepted);
                _pbszSent = true;
            }
            var reply = await Control.ExecuteAsync("PROT " + level.ToProtCode(), ct).ConfigureAwait(false);
            if (reply.Code != 200)
            {
                // RFC 4217 s.9/s.10-11: 536 = level not supported by the mechanism, 534 = refused by policy, 521 = policy requires more.
                throw new FtpException(FtpErrorKind.Policy, "DataProtectionRefused",
                    $"{Options.Host} refused data protection {level} (PROT {level.ToProtCode()}): {reply.Code} {reply.Message}. The requested protection level was not met; no data was transferred.", reply);
            }
            DataProtection = level;
        }

        private async Task CccCoreAsync(CancellationToken ct)
        {
            if (_security == null || !CommandChannelProtected)
                throw new FtpException(FtpErrorKind.Policy, "CommandChannelNotProtected", "The command channel is not protected, so there is nothing to clear.");
            var reply = await Control.ExecuteAsync("CCC", ct).ConfigureAwait(false);
            if (reply.Code != 200) throw FtpException.FromReply("CCC", reply);
            await _security.ClearCommandChannelAsync(Control, ct).ConfigureAwait(false);
            CommandChannelProtected = false;
        }

        private async Task ReinCoreAsync(CancellationToken ct)
        {
            var reply = await Control.ExecuteAsync("REIN", ct).ConfigureAwait(false);
            if (reply.Code == 120) reply = await Control.ReadReplyAsync(ct).ConfigureAwait(false);
            if (reply.Code != 220) throw FtpException.FromReply("REIN", reply);
            // RFC 4217 s.13: the reply came protected; now the TLS session is cleared and everything resets.
            if (_security != null)
            {
                if (CommandChannelProtected) await _security.ClearCommandChannelAsync(Control, ct).ConfigureAwait(false);
                _security.Dispose();
                _security = null;
                Control.Protection = null;
            }
            CommandChannelProtected = false;
            _pbszSent = false;
            DataProtection = DataProtectionLevel.Clear;
            Security = new SecurityDetails();
            UserName = null;
            await OpenAndNegotiateAsync(greetingExpected: false, ct).ConfigureAwait(false);
        }

        private async Task QuietQuitAsync()
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Control.ExecuteAsync("QUIT", cts.Token).ConfigureAwait(false);
            }
            catch { /* already failing; the caller's error is the one that matters */ }
        }

        private async Task DisconnectCoreAsync(CancellationToken ct)
        {
            if (_control == null) return;
            if (_control.IsConnected) await QuietQuitAsync().ConfigureAwait(false);
            Dispose();
        }
    }
}
