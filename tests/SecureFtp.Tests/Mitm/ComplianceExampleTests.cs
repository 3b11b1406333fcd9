using System.Net;
using SecureFtp.Tests.Diagnostics;
using SecureFtp.Tests.PowerShell;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Mitm;

/// <summary>examples/Compliance.Tests.ps1 itself, run through the hosted engine and the built module against real
/// vsftpd: a strict server passes every check, a lenient one fails exactly the checks it breaks. Pester is not on
/// the test machines, so the few Pester 5 commands the example uses are played by <see cref="PesterSubset"/>;
/// Diagnostics/ComplianceFactsTests checks the same facts at engine level.</summary>
public sealed class ComplianceExampleTests
{
    /// <summary>Describe, BeforeAll, It (with -Skip) and Should (-Be, -BeTrue, -BeNullOrEmpty, -BeGreaterThan,
    /// -Not, -Because) as Pester 5 defines them for the example, recording one "Outcome: name" line per It.</summary>
    private const string PesterSubset = """
        $global:PesterOutcomes = [System.Collections.Generic.List[string]]::new()
        function global:BeforeAll([scriptblock] $Block) { $global:PesterBeforeAll = $Block }
        function global:Describe([string] $Name, [scriptblock] $Block) {
            if ($global:PesterBeforeAll) { . $global:PesterBeforeAll }
            . $Block
        }
        function global:It {
            param([Parameter(Position = 0)] [string] $Name, [Parameter(Position = 1)] [scriptblock] $Block, [switch] $Skip)
            if ($Skip) { $global:PesterOutcomes.Add("Skipped: $Name"); return }
            try { & $Block; $global:PesterOutcomes.Add("Passed: $Name") }
            catch { $global:PesterOutcomes.Add("Failed: $Name") }
        }
        function global:Should {
            param([Parameter(ValueFromPipeline)] $ActualValue, [switch] $Not, [switch] $BeTrue, [switch] $BeNullOrEmpty,
                  $Be, $BeGreaterThan, $Because)
            begin { $inputs = [System.Collections.Generic.List[object]]::new() }
            process { $inputs.Add($ActualValue) }
            end {
                $actual = if ($inputs.Count -eq 1) { $inputs[0] } elseif ($inputs.Count -eq 0) { $null } else { $inputs.ToArray() }
                $met = if ($BeTrue) { [bool] $actual }
                       elseif ($BeNullOrEmpty) { $null -eq $actual -or "$actual" -eq '' -or @($actual).Count -eq 0 }
                       elseif ($PSBoundParameters.ContainsKey('Be')) { $null -ne $actual -and $actual -eq $Be -or ($null -eq $actual -and $null -eq $Be) }
                       elseif ($PSBoundParameters.ContainsKey('BeGreaterThan')) { $actual -gt $BeGreaterThan }
                       else { throw 'Should: no assertion given' }
                if ($met -eq [bool] $Not) { throw "Expected otherwise, got '$actual' because $Because" }
            }
        }
        """;

    /// <summary>Runs the example against <paramref name="server"/> as its EXAMPLE section says (ComputerName, Port,
    /// Credential), pinned to the server's certificate through $PSDefaultParameterValues, without its #Requires
    /// line (Pester itself is what it requires). Returns the outcome of every It.</summary>
    private static List<string> RunExample(ProbeVsftpd server)
    {
        using var ps = new HostedPowerShell();
        ps.Run(PesterSubset).ThrowOnError();
        string example = File.ReadAllText(Path.Combine(HostedPowerShell.RepositoryRoot, "examples", "Compliance.Tests.ps1"));
        var result = ps.Run("""
            $PSDefaultParameterValues['Test-SecureFtpServer:CertificateThumbprint'] = $thumbprint
            $PSDefaultParameterValues['Test-SecureFtpServer:TrustStorePath'] = $trustStore
            $PSDefaultParameterValues['Test-SecureFtpServer:ImplicitTlsPort'] = 0
            $PSDefaultParameterValues['Test-SecureFtpServer:SkipCipherSuites'] = $true
            $example = [scriptblock]::Create(($text -replace '(?m)^#Requires.*$', ''))
            & $example -ComputerName $h -Port $p -Credential $c -CertificatePinned
            $global:PesterOutcomes
            """,
            ("thumbprint", KeyFingerprint.Compute(server.Certificate.RawData)), ("trustStore", Path.Combine(server.Folder, "trust")),
            ("text", example), ("h", "127.0.0.1"), ("p", server.Port),
            ("c", new System.Management.Automation.PSCredential(server.User, new NetworkCredential("", server.Password).SecurePassword)));
        result.ThrowOnError();
        return result.Output.Select(o => o.ToString()).ToList();
    }

    [SkippableFact]
    public void A_strict_vsftpd_passes_every_check_of_the_compliance_example()
    {
        using var server = ProbeVsftpd.Start("ssl_tlsv1=NO\nforce_local_logins_ssl=YES\nforce_local_data_ssl=YES\nrequire_ssl_reuse=YES",
            certificateLifetime: TimeSpan.FromDays(90));
        var outcomes = RunExample(server);
        Assert.Equal(6, outcomes.Count);
        Assert.Equal(new[] { "Skipped: presents the pinned certificate" }, outcomes.Where(o => !o.StartsWith("Passed: ", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void A_lenient_vsftpd_fails_exactly_the_checks_it_breaks()
    {
        using var server = ProbeVsftpd.Start("ssl_tlsv1=YES\nssl_ciphers=DEFAULT:@SECLEVEL=0\nforce_local_logins_ssl=NO\nforce_local_data_ssl=NO",
            certificateLifetime: TimeSpan.FromDays(90));
        var outcomes = RunExample(server);
        Assert.Equal(new[]
        {
            "Failed: refuses a login in cleartext",
            "Failed: requires PROT P (protected data connections)",
            "Failed: refuses TLS 1.0 and TLS 1.1",
        }, outcomes.Where(o => o.StartsWith("Failed: ", StringComparison.Ordinal)));
        Assert.Equal(6, outcomes.Count);
    }
}
