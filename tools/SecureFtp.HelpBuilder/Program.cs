using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

// Usage: SecureFtp.HelpBuilder <docs folder> <output folder>
// Reads docs/en-US/<Cmdlet>.md (PlatyPS schema 2.0.0) and docs/about_*.md and writes
// <output>/SecureFtp.dll-Help.xml (MAML, as PlatyPS's New-ExternalHelp would) and <output>/about_*.help.txt.
// A file is rewritten only when its content changes, so incremental builds stay incremental.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: SecureFtp.HelpBuilder <docs folder> <output folder>");
    return 2;
}
string docs = args[0], output = args[1];
Directory.CreateDirectory(output);
try
{
    var commands = Directory.GetFiles(Path.Combine(docs, "en-US"), "*-*.md").OrderBy(f => f, StringComparer.Ordinal)
        .Select(f => CommandHelp.Parse(f).ToMaml()).ToList();
    var maml = new XDocument(new XDeclaration("1.0", "utf-8", null),
        new XElement(Maml.Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml.M), new XAttribute(XNamespace.Xmlns + "command", Maml.Cmd),
            new XAttribute(XNamespace.Xmlns + "dev", Maml.Dev), commands));
    WriteIfChanged(Path.Combine(output, "SecureFtp.dll-Help.xml"), maml.Declaration + "\n" + maml.ToString());
    foreach (var about in Directory.GetFiles(docs, "about_*.md"))
        WriteIfChanged(Path.Combine(output, Path.GetFileNameWithoutExtension(about) + ".help.txt"), AboutTopic.ToText(File.ReadAllText(about)));
    return 0;
}
catch (HelpFormatException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static void WriteIfChanged(string path, string content)
{
    if (File.Exists(path) && File.ReadAllText(path) == content) return;
    File.WriteAllText(path, content, new UTF8Encoding(false));
}

sealed class HelpFormatException(string message) : Exception(message);

static class Maml
{
    public static readonly XNamespace Msh = "http://msh";
    public static readonly XNamespace M = "http://schemas.microsoft.com/maml/2004/10";
    public static readonly XNamespace Cmd = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    public static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XElement Paras(XName name, IEnumerable<string> paragraphs)
        => new(name, paragraphs.Select(p => new XElement(M + "para", p)));
}

/// <summary>One parameter's PlatyPS yaml block.</summary>
sealed record ParameterHelp(string Name, string Description, Dictionary<string, string> Fields)
{
    public string Field(string key, string fallback = "") => Fields.TryGetValue(key, out var v) ? v : fallback;
    public bool Required => Field("Required").Equals("True", StringComparison.OrdinalIgnoreCase);
    public string Type => Field("Type", "Object");
    public bool IsSwitch => Type == "SwitchParameter";

    public XElement ToMaml(bool inSyntax)
    {
        var element = new XElement(Maml.Cmd + "parameter",
            new XAttribute("required", Required.ToString().ToLowerInvariant()),
            new XAttribute("variableLength", Type.EndsWith("[]", StringComparison.Ordinal).ToString().ToLowerInvariant()),
            new XAttribute("globbing", Field("Accept wildcard characters", "False")),
            new XAttribute("pipelineInput", Field("Accept pipeline input", "False")),
            new XAttribute("position", string.Equals(Field("Position", "Named"), "named", StringComparison.OrdinalIgnoreCase) ? "named" : Field("Position")),
            new XAttribute("aliases", Field("Aliases", "none")),
            new XElement(Maml.M + "name", Name),
            Maml.Paras(Maml.M + "description", CommandHelp.SplitParagraphs(Description)));
        if (!IsSwitch)
            element.Add(new XElement(Maml.Cmd + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), Type));
        if (!inSyntax)
        {
            element.Add(new XElement(Maml.Dev + "type", new XElement(Maml.M + "name", Type), new XElement(Maml.M + "uri")));
            element.Add(new XElement(Maml.Dev + "defaultValue", Field("Default value", "None")));
        }
        return element;
    }
}

/// <summary>A cmdlet's help page in PlatyPS schema 2.0.0, read with Markdig.</summary>
sealed class CommandHelp
{
    public string Name = "", Synopsis = "", Description = "", Notes = "";
    public List<string> SyntaxLines = new();
    public List<(string Title, string Code, string Remarks)> Examples = new();
    public List<ParameterHelp> Parameters = new();
    public List<(string Type, string Description)> Inputs = new(), Outputs = new();
    public List<(string Text, string Uri)> Links = new();

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    public static CommandHelp Parse(string file)
    {
        var text = File.ReadAllText(file).Replace("\r\n", "\n");
        var doc = Markdown.Parse(text, Pipeline);
        var help = new CommandHelp();
        string section = "";
        string? subsection = null;
        var sectionText = new StringBuilder();
        string? pendingCode = null;
        ParameterHelp? parameter = null;

        void FlushSubsection()
        {
            if (subsection == null) return;
            string body = sectionText.ToString().Trim();
            switch (section)
            {
                case "EXAMPLES":
                    help.Examples.Add((subsection, pendingCode ?? throw new HelpFormatException($"{file}: example '{subsection}' has no code block"), body));
                    break;
                case "PARAMETERS" when parameter != null:
                    help.Parameters.Add(parameter with { Description = body });
                    break;
                case "INPUTS": help.Inputs.Add((subsection, body)); break;
                case "OUTPUTS": help.Outputs.Add((subsection, body)); break;
            }
            subsection = null; pendingCode = null; parameter = null;
            sectionText.Clear();
        }

        void FlushSection()
        {
            FlushSubsection();
            string body = sectionText.ToString().Trim();
            switch (section)
            {
                case "SYNOPSIS": help.Synopsis = body; break;
                case "DESCRIPTION": help.Description = body; break;
                case "NOTES": help.Notes = body; break;
            }
            sectionText.Clear();
        }

        foreach (var block in doc)
        {
            switch (block)
            {
                case HeadingBlock { Level: 1 } h1:
                    help.Name = InlineText(h1.Inline);
                    break;
                case HeadingBlock { Level: 2 } h2:
                    FlushSection();
                    section = InlineText(h2.Inline).ToUpperInvariant();
                    break;
                case HeadingBlock { Level: 3 } h3:
                    FlushSubsection();
                    subsection = InlineText(h3.Inline);
                    if (section == "PARAMETERS" && subsection.StartsWith('-'))
                        parameter = new ParameterHelp(subsection.Substring(1), "", new());
                    break;
                case FencedCodeBlock code:
                    string content = code.Lines.ToString().Trim('\n');
                    if (section == "SYNTAX") help.SyntaxLines.Add(Regex.Replace(content, @"\s+", " ").Trim());
                    else if (section == "PARAMETERS" && parameter != null) parameter = parameter with { Fields = ParseYaml(content) };
                    else if (section == "EXAMPLES") pendingCode = content;
                    else sectionText.Append(content).Append("\n\n");
                    break;
                case ParagraphBlock paragraph:
                    if (section == "RELATED LINKS")
                        foreach (var link in paragraph.Inline!.Descendants<LinkInline>())
                            help.Links.Add((InlineText(link), link.Url ?? ""));
                    else sectionText.Append(InlineText(paragraph.Inline)).Append("\n\n");
                    break;
                case ListBlock list:
                    foreach (var item in list.Descendants<ParagraphBlock>())
                        sectionText.Append("- ").Append(InlineText(item.Inline)).Append('\n');
                    sectionText.Append('\n');
                    break;
            }
        }
        FlushSection();
        if (help.Name.Length == 0) throw new HelpFormatException($"{file}: no '# Cmdlet-Name' heading");
        return help;
    }

    private static Dictionary<string, string> ParseYaml(string yaml)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in yaml.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) fields[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
        }
        return fields;
    }

    /// <summary>Plain text of inline markdown: code spans and emphasis lose their marks, soft breaks become spaces.</summary>
    private static string InlineText(ContainerInline? inline)
    {
        if (inline == null) return "";
        var sb = new StringBuilder();
        foreach (var child in inline)
        {
            switch (child)
            {
                case LiteralInline literal: sb.Append(literal.Content.ToString()); break;
                case CodeInline code: sb.Append(code.Content); break;
                case LineBreakInline: sb.Append(' '); break;
                case ContainerInline container: sb.Append(InlineText(container)); break;
                case HtmlEntityInline entity: sb.Append(entity.Transcoded.ToString()); break;
            }
        }
        return sb.ToString();
    }

    public static IEnumerable<string> SplitParagraphs(string text)
        => text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public XElement ToMaml()
    {
        string[] verbNoun = Name.Split('-', 2);
        var byName = Parameters.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        return new XElement(Maml.Cmd + "command",
            new XElement(Maml.Cmd + "details",
                new XElement(Maml.Cmd + "name", Name),
                new XElement(Maml.Cmd + "verb", verbNoun[0]),
                new XElement(Maml.Cmd + "noun", verbNoun.Length > 1 ? verbNoun[1] : ""),
                Maml.Paras(Maml.M + "description", SplitParagraphs(Synopsis))),
            Maml.Paras(Maml.M + "description", SplitParagraphs(Description)),
            new XElement(Maml.Cmd + "syntax", SyntaxLines.Select(line => new XElement(Maml.Cmd + "syntaxItem",
                new XElement(Maml.M + "name", Name),
                Regex.Matches(line, @"-(\w+)").Select(m => m.Groups[1].Value).Distinct(StringComparer.OrdinalIgnoreCase)
                    .Where(byName.ContainsKey).Select(n => byName[n].ToMaml(inSyntax: true))))),
            new XElement(Maml.Cmd + "parameters", Parameters.Select(p => p.ToMaml(inSyntax: false))),
            new XElement(Maml.Cmd + "inputTypes", Inputs.Select(i => new XElement(Maml.Cmd + "inputType",
                new XElement(Maml.Dev + "type", new XElement(Maml.M + "name", i.Type)), Maml.Paras(Maml.M + "description", SplitParagraphs(i.Description))))),
            new XElement(Maml.Cmd + "returnValues", Outputs.Select(o => new XElement(Maml.Cmd + "returnValue",
                new XElement(Maml.Dev + "type", new XElement(Maml.M + "name", o.Type)), Maml.Paras(Maml.M + "description", SplitParagraphs(o.Description))))),
            new XElement(Maml.M + "alertSet", new XElement(Maml.M + "alert", SplitParagraphs(Notes).Select(p => new XElement(Maml.M + "para", p)))),
            new XElement(Maml.Cmd + "examples", Examples.Select(e => new XElement(Maml.Cmd + "example",
                new XElement(Maml.M + "title", $"-------------------------- {e.Title} --------------------------"),
                new XElement(Maml.Dev + "code", e.Code),
                Maml.Paras(Maml.Dev + "remarks", SplitParagraphs(e.Remarks))))),
            new XElement(Maml.Cmd + "relatedLinks", Links.Select(l => new XElement(Maml.M + "navigationLink",
                new XElement(Maml.M + "linkText", l.Text), new XElement(Maml.M + "uri", l.Uri.EndsWith(".md", StringComparison.Ordinal) ? "" : l.Uri)))));
    }
}

/// <summary>about_ topics: PowerShell shows the .help.txt as is, so the markdown becomes indented plain text.</summary>
static class AboutTopic
{
    public static string ToText(string markdown)
    {
        var sb = new StringBuilder();
        bool inCode = false;
        foreach (var raw in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            if (raw.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
            if (inCode) { sb.Append("        ").Append(raw).Append('\n'); continue; }
            if (raw.StartsWith("# ", StringComparison.Ordinal)) sb.Append(raw.Substring(2).Trim().ToUpperInvariant()).Append('\n');
            else if (raw.StartsWith("## ", StringComparison.Ordinal)) sb.Append(raw.Substring(3).Trim().ToUpperInvariant()).Append('\n');
            else if (raw.StartsWith("### ", StringComparison.Ordinal)) sb.Append("  ").Append(raw.Substring(4).Trim()).Append('\n');
            else sb.Append(raw.Length > 0 ? "    " + raw.Replace("`", "") : "").Append('\n');
        }
        return sb.ToString();
    }
}
