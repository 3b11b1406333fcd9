using System.Management.Automation.Language;
using System.Net;
using SecureFtp.Diagnostics;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Diagnostics;

/// <summary>The facts examples/Compliance.Tests.ps1 asserts, checked on the engine's probe result: a strict server
/// passes every one, and each fact fails on a server that breaks it (so the check can fail).</summary>
public sealed class ComplianceFactsTests
{
    /// <summary>The Pester file's assertions, one line each, as failures (empty = compliant).</summary>
    private static List<string> Violations(ServerProbeResult server, int minimumCertificateDays = 30, bool certificatePinned = true)
    {
        var failed = new List<string>();
        if (!server.TlsOffered) failed.Add("TLS not offered");
        if (server.CleartextLoginRefused != true) failed.Add("cleartext login not refused");
        if (server.ProtPRequired != true) failed.Add("PROT P not required");
        var legacy = server.TlsVersions.Where(v => v.Version is "Tls10" or "Tls11").ToList();
        if (legacy.Count != 2 || legacy.Any(v => v.Accepted != false)) failed.Add("TLS 1.0/1.1 not refused");
        if (!certificatePinned && server.Certificate?.IsValid != true) failed.Add("certificate does not validate");
        if (server.Certificate == null || server.Certificate.DaysUntilExpiry <= minimumCertificateDays) failed.Add($"certificate expires within {minimumCertificateDays} days");
        return failed;
    }

    private static ServerProbeOptions Options(ProbeVsftpd server) => new()
    {
        Host = "127.0.0.1",
        Port = server.Port,
        ImplicitTlsPort = 0,
        Credential = new NetworkCredential(server.User, server.Password),
        PinnedFingerprints = { KeyFingerprint.Compute(server.Certificate.RawData) },
        TrustStorePath = Path.Combine(server.Folder, "trust"),
        EnumerateCipherSuites = false,
    };

    private const string Strict = "ssl_tlsv1=NO\nforce_local_logins_ssl=YES\nforce_local_data_ssl=YES\nrequire_ssl_reuse=YES";

    [SkippableFact]
    public async Task A_strict_server_with_a_long_lived_certificate_is_compliant()
    {
        using var server = ProbeVsftpd.Start(Strict, certificateLifetime: TimeSpan.FromDays(90));
        var result = await ServerProbe.ProbeAsync(Options(server));
        Assert.Empty(Violations(result));
        // The chain check is the one the test CA cannot pass: it is reported, not hidden.
        Assert.Equal(new[] { "certificate does not validate" }, Violations(result, certificatePinned: false));
    }

    [SkippableFact]
    public async Task A_lenient_server_fails_the_cleartext_protection_and_legacy_tls_facts()
    {
        using var server = ProbeVsftpd.Start("ssl_tlsv1=YES\nssl_ciphers=DEFAULT:@SECLEVEL=0\nforce_local_logins_ssl=NO\nforce_local_data_ssl=NO");
        var result = await ServerProbe.ProbeAsync(Options(server));
        Assert.Equal(new[] { "cleartext login not refused", "PROT P not required", "TLS 1.0/1.1 not refused" }, Violations(result));
    }

    [SkippableFact]
    public async Task A_certificate_expiring_within_30_days_fails_the_expiry_fact()
    {
        using var server = ProbeVsftpd.Start(Strict, certificateLifetime: TimeSpan.FromDays(20));
        var result = await ServerProbe.ProbeAsync(Options(server));
        Assert.Equal(new[] { "certificate expires within 30 days" }, Violations(result));
    }

    [Fact]
    public void The_pester_example_parses_and_asserts_the_same_facts_over_Test_SecureFtpServer()
    {
        var path = Path.Combine(RepositoryRoot(), "examples", "Compliance.Tests.ps1");
        var ast = Parser.ParseFile(path, out _, out var errors);
        Assert.Empty(errors);
        var text = ast.Extent.Text;
        Assert.Contains("Test-SecureFtpServer @probe", text);
        // Every property the example reads exists on the engine's result types.
        foreach (var property in new[] { "TlsOffered", "CleartextLoginRefused", "CleartextLoginReply", "ProtPRequired", "ClearDataReply", "TlsVersions" })
        {
            Assert.Contains("$server." + property, text);
            Assert.NotNull(typeof(ServerProbeResult).GetProperty(property));
        }
        foreach (var property in new[] { "IsValid", "ValidationErrors", "DaysUntilExpiry" })
        {
            Assert.Contains("$server.Certificate." + property, text);
            Assert.NotNull(typeof(ProbedCertificate).GetProperty(property));
        }
        foreach (var property in new[] { "Version", "Accepted", "Detail" })
            Assert.NotNull(typeof(ProbedTlsVersion).GetProperty(property));
        Assert.Contains("Should -Be $false", text); // $null (unknown) must not pass as "refused"
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SecureFtp.sln"))) return dir.FullName;
        throw new InvalidOperationException("SecureFtp.sln not found above " + AppContext.BaseDirectory);
    }
}
