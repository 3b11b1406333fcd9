using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace SecureFtp.Host;

/// <summary>A console host: what Out-Default, Write-Warning, Write-Progress, Read-Host and credential prompts need.</summary>
internal sealed class ConsoleHost : PSHost
{
    private readonly ConsoleUserInterface _ui = new();
    public override string Name => "SecureFtp.Host";
    public override Version Version { get; } = new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
    public override void EnterNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
    public override void ExitNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) => Environment.Exit(exitCode);
}

internal sealed class ConsoleUserInterface : PSHostUserInterface
{
    private readonly ConsoleRawUserInterface _raw = new();
    public override PSHostRawUserInterface RawUI => _raw;

    public override string ReadLine() => Console.ReadLine() ?? "";

    public override SecureString ReadLineAsSecureString()
    {
        var secure = new SecureString();
        if (Console.IsInputRedirected)
        {
            foreach (char c in Console.ReadLine() ?? "") secure.AppendChar(c);
            return secure;
        }
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace) { if (secure.Length > 0) secure.RemoveAt(secure.Length - 1); }
            else secure.AppendChar(key.KeyChar);
        }
        Console.WriteLine();
        return secure;
    }

    public override void Write(string value) => Console.Write(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Write(value);
    public override void WriteLine(string value) => Console.WriteLine(value);
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(value);
    public override void WriteDebugLine(string message) => Console.Error.WriteLine("DEBUG: " + message);
    public override void WriteVerboseLine(string message) => Console.Error.WriteLine("VERBOSE: " + message);
    public override void WriteWarningLine(string message) => Console.Error.WriteLine("WARNING: " + message);

    /// <summary>One line per completed activity; no redrawn bars (the output may be a log).</summary>
    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (record.RecordType == ProgressRecordType.Completed && record.ParentActivityId < 0)
            Console.Error.WriteLine($"{record.Activity}: done");
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions)
    {
        var answers = new Dictionary<string, PSObject>();
        foreach (var field in descriptions)
        {
            Console.Write($"{field.Name}: ");
            answers[field.Name] = PSObject.AsPSObject(field.ParameterTypeName == nameof(SecureString) ? ReadLineAsSecureString() : ReadLine());
        }
        return answers;
    }

    public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice)
    {
        Console.WriteLine(caption);
        Console.WriteLine(message);
        for (int i = 0; i < choices.Count; i++) Console.WriteLine($"[{i}] {choices[i].Label.Replace("&", "")}");
        Console.Write($"Choice (default {defaultChoice}): ");
        return int.TryParse(Console.ReadLine(), out int chosen) && chosen >= 0 && chosen < choices.Count ? chosen : defaultChoice;
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName)
        => PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
    {
        Console.WriteLine(message);
        if (string.IsNullOrEmpty(userName)) { Console.Write("User: "); userName = ReadLine(); }
        Console.Write("Password: ");
        return new PSCredential(userName, ReadLineAsSecureString());
    }
}

/// <summary>Just enough raw UI for the formatter: a fixed-width buffer when the output is not a terminal.</summary>
internal sealed class ConsoleRawUserInterface : PSHostRawUserInterface
{
    private static int Width => Console.IsOutputRedirected ? 120 : Math.Max(40, Console.WindowWidth);
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override Size BufferSize { get => new(Width, 9999); set { } }
    public override Coordinates CursorPosition { get; set; }
    public override int CursorSize { get; set; }
    public override bool KeyAvailable => false;
    public override Size MaxPhysicalWindowSize => new(Width, 50);
    public override Size MaxWindowSize => new(Width, 50);
    public override Coordinates WindowPosition { get; set; }
    public override Size WindowSize { get => new(Width, 50); set { } }
    public override string WindowTitle { get; set; } = "SecureFtp";
    public override void FlushInputBuffer() { }
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("This host reads lines, not keys.");
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
}
