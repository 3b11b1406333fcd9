using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace SecureFtp.Diagnostics
{
    /// <summary>A TLS 1.0 / 1.1 handshake with BouncyCastle's own TLS client, for machines whose system TLS library
    /// no longer speaks those versions (OpenSSL 3 at its default security level): without it, "does the server
    /// still accept TLS 1.0?" could not be answered on Linux. Only the handshake is made; nothing is sent over it.</summary>
    internal static class LegacyTlsHandshake
    {
        public static bool Handles(string version) => version is "Tls10" or "Tls11";

        /// <summary>Completes a handshake of exactly <paramref name="version"/> over <paramref name="inner"/>, offering
        /// <paramref name="suites"/> (IANA names) or BouncyCastle's defaults; returns the suite the server chose.</summary>
        public static async Task<string> HandshakeAsync(Stream inner, string version, IEnumerable<string>? suites, TimeSpan timeout, CancellationToken ct)
        {
            var protocolVersion = version == "Tls10" ? ProtocolVersion.TLSv10 : ProtocolVersion.TLSv11;
            int[]? offered = suites?.Select(SuiteNumber).Where(n => n >= 0).ToArray();
            if (offered is { Length: 0 })
                throw new FtpException(FtpErrorKind.NotSupported, "CipherSuiteUnknown", "None of the cipher suites is known to the legacy TLS client.");
            var client = new ProbeClient(protocolVersion, offered);
            var protocol = new TlsClientProtocol(inner);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            using var reg = cts.Token.Register(() => { try { inner.Dispose(); } catch (Exception) { /* unblocks Connect */ } });
            try
            {
                await Task.Run(() => protocol.Connect(client), CancellationToken.None).ConfigureAwait(false);
                var name = SuiteName(client.SelectedSuite);
                try { protocol.Close(); } catch (IOException) { /* the server may already be gone */ }
                return name;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or TlsFatalAlert or TlsFatalAlertReceived or InvalidOperationException)
            {
                ct.ThrowIfCancellationRequested();
                if (cts.IsCancellationRequested)
                    throw new FtpException(FtpErrorKind.Timeout, "TlsHandshakeTimeout", $"The {version} handshake took longer than {timeout.TotalSeconds:0.#} s.", inner: e);
                throw new FtpException(FtpErrorKind.Security, "TlsHandshakeFailed", $"The {version} handshake failed: {e.Message}", inner: e);
            }
        }

        private static readonly Lazy<Dictionary<string, int>> Suites = new Lazy<Dictionary<string, int>>(() =>
            typeof(CipherSuite).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(int))
                .GroupBy(f => f.Name).ToDictionary(g => g.Key, g => (int)g.First().GetRawConstantValue()!));

        private static int SuiteNumber(string name) => Suites.Value.TryGetValue(name, out var n) ? n : -1;

        private static string SuiteName(int number)
            => Suites.Value.FirstOrDefault(p => p.Value == number && p.Key.StartsWith("TLS_", StringComparison.Ordinal)).Key ?? $"0x{number:X4}";

        private sealed class ProbeClient : DefaultTlsClient
        {
            private readonly ProtocolVersion _version;
            private readonly int[]? _suites;
            public int SelectedSuite { get; private set; } = -1;

            public ProbeClient(ProtocolVersion version, int[]? suites) : base(new BcTlsCrypto(new SecureRandom()))
            {
                _version = version;
                _suites = suites;
            }

            protected override ProtocolVersion[] GetSupportedVersions() => _version.Only();

            protected override int[] GetSupportedCipherSuites() => _suites ?? base.GetSupportedCipherSuites();

            public override void NotifySelectedCipherSuite(int selectedCipherSuite)
            {
                base.NotifySelectedCipherSuite(selectedCipherSuite);
                SelectedSuite = selectedCipherSuite;
            }

            public override TlsAuthentication GetAuthentication() => new RecordOnly();
        }

        /// <summary>The certificate is judged on the main handshake; here only the version matters.</summary>
        private sealed class RecordOnly : TlsAuthentication
        {
            public void NotifyServerCertificate(TlsServerCertificate serverCertificate) { }
            public TlsCredentials? GetClientCredentials(CertificateRequest certificateRequest) => null;
        }
    }
}
