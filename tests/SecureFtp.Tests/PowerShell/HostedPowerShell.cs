using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The PowerShell engine hosted in this process, with the BUILT module (out/SecureFtp) imported the way a
/// user imports it. Each instance is its own runspace, so sessions and preferences never leak between tests.</summary>
public sealed class HostedPowerShell : IDisposable
{
    private readonly Runspace _runspace;

    public HostedPowerShell(bool importModule = true)
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        if (importModule) Run("Import-Module -Name $path -ErrorAction Stop", ("path", ModuleManifest)).ThrowOnError();
    }

    /// <summary>The repository root: the folder holding SecureFtp.sln above the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ModuleDirectory => Path.Combine(RepositoryRoot, "out", "SecureFtp");
    public static string ModuleManifest => Path.Combine(ModuleDirectory, "SecureFtp.psd1");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SecureFtp.sln"))) return dir.FullName;
        throw new InvalidOperationException("SecureFtp.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a script with variables set first; returns everything the streams received.</summary>
    public ScriptResult Run(string script, params (string Name, object? Value)[] variables)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        foreach (var (name, value) in variables) _runspace.SessionStateProxy.SetVariable(name, value);
        ps.AddScript(script);
        Collection<PSObject> output;
        Exception? terminating = null;
        try { output = ps.Invoke(); }
        catch (RuntimeException e) { output = new Collection<PSObject>(); terminating = e; }
        return new ScriptResult(output.ToList(), ps.Streams.Error.ToList(), ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Progress.ToList(), ps.Streams.Verbose.Select(v => v.Message).ToList(), terminating);
    }

    /// <summary>A pipeline on this runspace, for tests that drive it asynchronously (e.g. to Stop it).</summary>
    public System.Management.Automation.PowerShell Create()
    {
        var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        return ps;
    }

    public void SetVariable(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

    public void Dispose() => _runspace.Dispose();
}

public sealed record ScriptResult(
    List<PSObject> Output,
    List<ErrorRecord> Errors,
    List<string> Warnings,
    List<ProgressRecord> Progress,
    List<string> Verbose,
    Exception? Terminating)
{
    /// <summary>Every error, terminating or not, by FullyQualifiedErrorId.</summary>
    public IEnumerable<string> ErrorIds => Errors.Select(e => e.FullyQualifiedErrorId)
        .Concat(Terminating is IContainsErrorRecord r ? new[] { r.ErrorRecord.FullyQualifiedErrorId } : Array.Empty<string>());

    public ScriptResult ThrowOnError()
    {
        if (Terminating != null) throw new InvalidOperationException("The script failed: " + Terminating.Message, Terminating);
        if (Errors.Count > 0) throw new InvalidOperationException("The script wrote errors: " + string.Join("; ", Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return this;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Reads like LINQ Single(): the one output object, or a failure.")]
    public object? Single() => Output.Count == 1 ? Output[0]?.BaseObject : throw new InvalidOperationException($"Expected one output object, got {Output.Count}: {string.Join(", ", Output)}");
}
