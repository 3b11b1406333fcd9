using System.Management.Automation;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The help a user reads with Get-Help: built into en-US/ from docs/ by the build, no PlatyPS needed.</summary>
public class HelpTests
{
    private static readonly HashSet<string> CommonParameters = new(
        System.Management.Automation.Cmdlet.CommonParameters.Concat(System.Management.Automation.Cmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<object[]> Cmdlets()
    {
        using var ps = new HostedPowerShell();
        return ps.Run("(Get-Command -Module SecureFtp).Name").ThrowOnError().Output.Select(o => new object[] { o.ToString() }).ToList();
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Cmdlet_has_synopsis_description_every_parameter_and_two_examples(string cmdlet)
    {
        using var ps = new HostedPowerShell();
        var facts = ps.Run("""
            $help = Get-Help -Name $cmdlet -Full
            $help.Synopsis
            ($help.description | ForEach-Object Text) -join ' '
            @($help.examples.example).Count
            (Get-Command -Name $cmdlet).Parameters.Keys -join ','
            @($help.parameters.parameter | Where-Object { ($_.description | ForEach-Object Text) -join '' } | ForEach-Object name) -join ','
            """, ("cmdlet", cmdlet)).ThrowOnError().Output.Select(o => o?.ToString() ?? "").ToList();
        string synopsis = facts[0], description = facts[1];
        int examples = int.Parse(facts[2], System.Globalization.CultureInfo.InvariantCulture);
        var parameters = facts[3].Split(',').Where(p => !CommonParameters.Contains(p)).ToList();
        var documented = facts[4].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);

        // Without MAML, Get-Help makes the synopsis from the syntax; a real one does not start with the name.
        Assert.False(string.IsNullOrWhiteSpace(synopsis));
        Assert.DoesNotContain(cmdlet, synopsis.Split(' ')[0]);
        Assert.True(description.Length > 40, $"{cmdlet} has no real description");
        Assert.True(examples >= 2, $"{cmdlet} has {examples} examples");
        Assert.DoesNotContain(parameters, p => !documented.Contains(p));
    }

    [Fact]
    public void About_topic_is_found_by_Get_Help()
    {
        using var ps = new HostedPowerShell();
        var text = string.Join("\n", ps.Run("Get-Help about_SecureFtp").ThrowOnError().Output.Select(o => o.ToString()));
        Assert.Contains("SHORT DESCRIPTION", text);
        Assert.Contains("Connect-SecureFtp", text);
    }
}
