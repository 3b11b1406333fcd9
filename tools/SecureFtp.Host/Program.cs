using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SecureFtp.Host;

// Usage: SecureFtp.Host [-Module <folder>] <script.ps1> [-Name value | -Switch]...
//        SecureFtp.Host [-Module <folder>] -Command "<script text>"
// The module folder (default: out/ above this program, where the build lays out SecureFtp) is put first on
// PSModulePath, so `Import-Module SecureFtp` finds the built module. The exit code is 1 when the script
// failed (a terminating error, or errors written while $ErrorActionPreference is 'Stop'), else 0.
var arguments = new Queue<string>(args);
string? modules = null, command = null, file = null;
var scriptArguments = new List<string>();
while (arguments.Count > 0)
{
    string arg = arguments.Dequeue();
    if (file == null && command == null && arg.Equals("-Module", StringComparison.OrdinalIgnoreCase) && arguments.Count > 0) modules = arguments.Dequeue();
    else if (file == null && command == null && arg.Equals("-Command", StringComparison.OrdinalIgnoreCase) && arguments.Count > 0) command = arguments.Dequeue();
    else if (file == null && command == null) file = arg;
    else scriptArguments.Add(arg);
}
if (file == null && command == null)
{
    Console.Error.WriteLine("usage: SecureFtp.Host [-Module <folder>] <script.ps1> [script parameters] | -Command <text>");
    return 2;
}

modules ??= FindBuiltModules();
if (modules != null)
    Environment.SetEnvironmentVariable("PSModulePath", modules + Path.PathSeparator + Environment.GetEnvironmentVariable("PSModulePath"));

var host = new ConsoleHost();
using var runspace = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
runspace.Open();
using var ps = PowerShell.Create();
ps.Runspace = runspace;
if (command != null) ps.AddScript(command);
else
{
    ps.AddCommand(Path.GetFullPath(file!));
    AddScriptParameters(ps, scriptArguments);
}
ps.AddCommand("Out-Default");
Console.CancelKeyPress += (_, e) => { e.Cancel = true; ps.BeginStop(null, null); };
try
{
    ps.Invoke();
    return ps.HadErrors && ps.Streams.Error.Count > 0 ? 1 : 0;
}
catch (RuntimeException e)
{
    host.UI.WriteErrorLine(e.ErrorRecord?.ToString() ?? e.Message);
    return 1;
}

// "-Name value" pairs and bare "-Switch" flags, as pwsh -File passes them.
static void AddScriptParameters(PowerShell ps, List<string> list)
{
    for (int i = 0; i < list.Count; i++)
    {
        if (list[i].StartsWith('-') && list[i].Length > 1)
        {
            string name = list[i].TrimStart('-').TrimEnd(':');
            if (i + 1 < list.Count && !list[i + 1].StartsWith('-')) ps.AddParameter(name, list[++i]);
            else ps.AddParameter(name);
        }
        else ps.AddArgument(list[i]);
    }
}

// out/ beside the repository's SecureFtp.sln, found from where this program runs.
static string? FindBuiltModules()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SecureFtp.sln")))
            return Path.Combine(dir.FullName, "out");
    return null;
}
