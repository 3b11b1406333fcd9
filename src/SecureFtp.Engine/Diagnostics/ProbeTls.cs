using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Diagnostics
{
    /// <summary>A TLS client handshake as the probe needs it: any certificate is let through (it is recorded
    /// and judged, not trusted), the versions and suites are the probe's choice, resumption can be forbidden.</summary>
    internal sealed class ProbeTlsSession : IDisposable
    {
        public SslStream Stream { get; }
        public X509Certificate2? Certificate { get; }
        /// <summary>Null when the certificate validated (chain and name) on this handshake.</summary>
        public string? ValidationErrors { get; }

        public ProbeTlsSession(SslStream stream, X509Certificate2? certificate, string? validationErrors)
        {
            Stream = stream;
            Certificate = certificate;
            ValidationErrors = validationErrors;
        }

        public string Protocol => ProbeTls.VersionName(Stream.SslProtocol);

        public string CipherSuite
        {
            get
            {
#if NET
                return Stream.NegotiatedCipherSuite.ToString();
#else
                return $"{Stream.KeyExchangeAlgorithm}-{Stream.CipherAlgorithm}{Stream.CipherStrength}-{Stream.HashAlgorithm}";
#endif
            }
        }

        public void Dispose()
        {
            try { Stream.Dispose(); } catch (Exception) { /* closing a failed session */ }
        }
    }

    internal static class ProbeTls
    {
#pragma warning disable CS0618, SYSLIB0039, CA5397 // TLS 1.0 and 1.1 are probed precisely because they are obsolete (Test-SecureFtpServer reports what a server still accepts).
        public static readonly IReadOnlyList<(string Name, SslProtocols Protocol)> Versions = new[]
        {
            ("Tls10", SslProtocols.Tls),
            ("Tls11", SslProtocols.Tls11),
            ("Tls12", SslProtocols.Tls12),
            ("Tls13", (SslProtocols)12288),
        };
#pragma warning restore CS0618, SYSLIB0039, CA5397

        public static string VersionName(SslProtocols protocol)
            => Versions.FirstOrDefault(v => v.Protocol == protocol).Name ?? protocol.ToString();

        /// <summary>Runs the client handshake over <paramref name="inner"/>. <paramref name="protocols"/> null = the
        /// system's defaults. <paramref name="cipherSuites"/> (NET only) limits the suites offered.
        /// <paramref name="allowResume"/> false makes a brand-new session (for the session-reuse check).</summary>
        public static async Task<ProbeTlsSession> HandshakeAsync(Stream inner, string targetHost, SslProtocols? protocols,
            IEnumerable<string>? cipherSuites, bool allowResume, TimeSpan timeout, CancellationToken ct)
        {
            X509Certificate2? seen = null;
            string? errors = null;
            bool Record(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors policyErrors)
            {
                if (certificate != null) seen = new X509Certificate2(certificate);
                if (policyErrors != SslPolicyErrors.None)
                {
                    var statuses = chain?.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError).Select(s => s.Status.ToString()).Distinct().ToArray();
                    errors = policyErrors + (statuses is { Length: > 0 } ? ": " + string.Join(", ", statuses) : "");
                }
                return true; // recorded and judged by the probe; nothing secret goes over this session unless it passes
            }

            var ssl = new SslStream(inner, leaveInnerStreamOpen: false, Record);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            using var reg = cts.Token.Register(() => { try { inner.Dispose(); } catch (Exception) { /* unblocks the handshake */ } });
            try
            {
#if NET
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = targetHost,
                    EnabledSslProtocols = protocols ?? SslProtocols.None,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowTlsResume = allowResume,
                };
                if (cipherSuites != null)
#pragma warning disable CA1416 // only reached when CanChooseCipherSuites is true (Linux and macOS), which the probe checks first
                    options.CipherSuitesPolicy = new CipherSuitesPolicy(cipherSuites.Select(s => (TlsCipherSuite)Enum.Parse(typeof(TlsCipherSuite), s)));
#pragma warning restore CA1416
                await ssl.AuthenticateAsClientAsync(options, cts.Token).ConfigureAwait(false);
#else
                // SChannel caches sessions by target name: a unique name keeps this handshake from resuming one.
                string name = allowResume ? targetHost : $"fresh-{Guid.NewGuid():N}.invalid";
                await ssl.AuthenticateAsClientAsync(name, null, protocols ?? SslProtocols.None, false).ConfigureAwait(false);
#endif
                return new ProbeTlsSession(ssl, seen, errors);
            }
            catch (Exception e) when (e is not FtpException)
            {
                ssl.Dispose();
                if (cts.IsCancellationRequested && !ct.IsCancellationRequested)
                    throw new FtpException(FtpErrorKind.Timeout, "TlsHandshakeTimeout", $"The TLS handshake with {targetHost} took longer than {timeout.TotalSeconds:0.#} s.", inner: e);
                ct.ThrowIfCancellationRequested();
                throw new FtpException(FtpErrorKind.Security, "TlsHandshakeFailed", $"The TLS handshake with {targetHost} failed: {Innermost(e).Message}", inner: e);
            }
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        /// <summary>Suites the probe tries one at a time, per version. TLS 1.0 and 1.1 know only the SHA-1 CBC suites.</summary>
        public static IReadOnlyList<string> CandidateSuites(string version)
        {
            if (version == "Tls13") return new[] { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256" };
            var legacy = new[]
            {
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
                "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
                "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
            };
            if (version != "Tls12") return legacy;
            return new[]
            {
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
                "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
                "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256",
            }.Concat(legacy).ToArray();
        }

        /// <summary>True when this client can choose its cipher suites (CipherSuitesPolicy: Linux and macOS).</summary>
        public static bool CanChooseCipherSuites
        {
            get
            {
#if NET
#pragma warning disable CA1416 // this is the platform check itself: it catches PlatformNotSupportedException
                try { _ = new CipherSuitesPolicy(new[] { TlsCipherSuite.TLS_AES_128_GCM_SHA256 }); return true; }
#pragma warning restore CA1416
                catch (PlatformNotSupportedException) { return false; }
#else
                return false;
#endif
            }
        }

        private static readonly Dictionary<SslProtocols, Task<bool?>> LocalSupport = new Dictionary<SslProtocols, Task<bool?>>();

        /// <summary>Whether this machine's TLS library speaks <paramref name="protocol"/> at all, found by a handshake
        /// with itself over loopback. A refused remote handshake only means "the server refuses it" when this is true:
        /// OpenSSL 3 at its default security level, for one, cannot speak TLS 1.0 or 1.1 any more.
        /// Null when it cannot be found out on this runtime.</summary>
        public static Task<bool?> LocallySupportedAsync(SslProtocols protocol)
        {
            lock (LocalSupport)
            {
                if (!LocalSupport.TryGetValue(protocol, out var task))
                    LocalSupport[protocol] = task = SelfHandshakeAsync(protocol);
                return task;
            }
        }

        private static async Task<bool?> SelfHandshakeAsync(SslProtocols protocol)
        {
#if NET
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                using var client = new TcpClient();
                var accept = listener.AcceptTcpClientAsync();
                await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).ConfigureAwait(false);
                using var serverSide = await accept.ConfigureAwait(false);
                using var server = new SslStream(serverSide.GetStream());
#pragma warning disable CA5359 // a loopback self-test of the local TLS stack against its own throwaway certificate: nothing is authenticated or sent
                using var clientSsl = new SslStream(client.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var serverTask = server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = protocol }, cts.Token);
                var clientTask = clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocol }, cts.Token);
                try { await Task.WhenAll(serverTask, clientTask).ConfigureAwait(false); }
                catch (Exception) { return false; }
                return clientSsl.SslProtocol == protocol;
            }
            catch (Exception) { return null; }
            finally { listener.Stop(); }
#else
            await Task.CompletedTask.ConfigureAwait(false);
            return null;
#endif
        }
    }
}
