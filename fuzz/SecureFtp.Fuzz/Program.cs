using SecureFtp.Fuzz;
using SharpFuzz;

// Usage: dotnet SecureFtp.Fuzz.dll --write-seeds <corpus>  real ADAT messages and protected blocks into the corpus
//        dotnet SecureFtp.Fuzz.dll <target>            run under afl-fuzz (fuzz/run.sh does this)
//        dotnet SecureFtp.Fuzz.dll <target> <file>...  replay inputs (a crasher, a corpus) and report each outcome
// Targets: see ParserTargets.Names. Only FtpException may escape a parser; anything else is a crash.
if (args.Length == 2 && args[0] == "--write-seeds")
{
    ParserTargets.WriteSeeds(args[1]);
    return 0;
}
if (args.Length == 0 || !ParserTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: SecureFtp.Fuzz <{string.Join("|", ParserTargets.Names)}> [input files...]");
    return 2;
}
var target = ParserTargets.Get(args[0]);
if (args.Length > 1)
{
    int failures = 0;
    foreach (var file in args.Skip(1))
    {
        try { target(File.ReadAllBytes(file)); Console.WriteLine($"ok      {file}"); }
        catch (SecureFtp.FtpException e) { Console.WriteLine($"refused {file}: {e.ErrorId}"); }
        catch (Exception e) { failures++; Console.WriteLine($"CRASH {file}: {e.GetType().Name}: {e.Message}"); }
    }
    return failures == 0 ? 0 : 1;
}
// Out of process: a stack overflow or a hang in a parser is caught by afl-fuzz as a crash or timeout, not lost with the runner.
Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    try { target(copy.ToArray()); }
    catch (SecureFtp.FtpException) { /* the module's own refusal: the expected answer to hostile input */ }
});
return 0;
