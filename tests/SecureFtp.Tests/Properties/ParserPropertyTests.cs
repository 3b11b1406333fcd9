using System.Diagnostics;
using System.Net;
using System.Text;
using CsCheck;
using SecureFtp.Fuzz;
using SecureFtp.Listing;
using SecureFtp.Protocol;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Server;
using Xunit;

namespace SecureFtp.Tests.Properties;

/// <summary>Property-based tests (CsCheck) of every parser that reads what a peer chose: for any input, the parser
/// returns or throws the module's own <see cref="FtpException"/>, within bounded time and memory, and what it returns
/// obeys the parser's promise (a reply as sent, a path inside the root, a line within its bound). The same targets
/// run under afl++ (fuzz/run.sh); crashers found there are replayed in <see cref="FuzzRegressionTests"/>.
/// Generators are biased towards what attacks look like: delimiters, CR/LF, NUL, IAC, "..", over-long fields.</summary>
[Trait("Category", "Properties")]
public class ParserPropertyTests
{
    /// <summary>Per input: a hang is a failure long before this; a parser that allocates more than this for a few KiB
    /// of input is unbounded.</summary>
    private static readonly TimeSpan MaxTimePerInput = TimeSpan.FromSeconds(5);
    private const long MaxBytesAllocatedPerInputByte = 512;
    private const long AllocationAllowance = 32L << 20;

    /// <summary>Runs <paramref name="target"/> and fails on any exception but FtpException, on a slow input, or on an
    /// allocation out of proportion to the input.</summary>
    private static void Bounded(Action<byte[]> target, byte[] input)
    {
        // The first call of a target makes its keys (DSA, ElGamal, a KEA site): not the input's cost.
        if (Warm.Add(target.Method.Name)) try { target(Array.Empty<byte>()); } catch (FtpException) { }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try { target(input); }
        catch (FtpException) { }
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(clock.Elapsed < MaxTimePerInput, $"{clock.Elapsed.TotalSeconds:0.0} s for {input.Length} bytes: {Show(input)}");
        Assert.True(allocated < AllocationAllowance + MaxBytesAllocatedPerInputByte * input.Length,
            $"{allocated} bytes allocated for {input.Length} bytes of input: {Show(input)}");
    }

    private static readonly HashSet<string> Warm = new();

    private static string Show(byte[] input) => Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 256)));

    /// <summary>Bytes an attacker would try first, mixed with anything.</summary>
    private static readonly Gen<byte> HostileByte = Gen.Frequency(
        (6, Gen.Byte),
        (3, Gen.OneOf((byte)'\r', (byte)'\n', (byte)' ', (byte)'-', (byte)';', (byte)'=', (byte)'/', (byte)'.', (byte)0, (byte)0xFF, (byte)'1', (byte)'2', (byte)'5')),
        (4, Gen.Char["0123456789 -\r\nabcdefxyz;=./"].Select(c => (byte)c)));

    private static readonly Gen<byte[]> HostileBytes = HostileByte.Array[0, 3000];

    private static readonly Gen<string> Digits3 = Gen.Int[0, 999].Select(i => i.ToString("000", System.Globalization.CultureInfo.InvariantCulture));

    // ---- reply parser -------------------------------------------------------------------------------------------

    [Fact]
    public void Reply_reader_on_any_bytes_returns_replies_or_refuses_with_its_own_error()
        => HostileBytes.Sample(b => Bounded(ParserTargets.Reply, b), iter: 3000, threads: 1);

    /// <summary>A well-formed reply of any code, line count and text comes back exactly as sent.</summary>
    [Fact]
    public void Reply_reader_reads_back_any_well_formed_reply()
    {
        var text = Gen.String[Gen.Char.AlphaNumeric, 0, 40];
        Gen.Select(Gen.Int[100, 599], text.List[0, 6], text).Sample((code, middle, last) =>
        {
            var wire = new StringBuilder();
            if (middle.Count == 0) wire.Append(System.Globalization.CultureInfo.InvariantCulture, $"{code} {last}\r\n");
            else
            {
                wire.Append(System.Globalization.CultureInfo.InvariantCulture, $"{code}-{middle[0]}\r\n");
                foreach (var m in middle.Skip(1)) wire.Append(System.Globalization.CultureInfo.InvariantCulture, $" {m}\r\n");
                wire.Append(System.Globalization.CultureInfo.InvariantCulture, $"{code} {last}\r\n");
            }
            var reader = new FtpReplyReader(new MemoryStream(Encoding.ASCII.GetBytes(wire.ToString())), Encoding.ASCII);
            var reply = reader.ReadReplyAsync(CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(code, reply.Code);
            Assert.Equal(middle.Count == 0 ? 1 : middle.Count + 1, reply.Lines.Count);
            Assert.Equal(last, reply.Lines[^1]);
        }, iter: 2000, threads: 1);
    }

    /// <summary>A server that never ends a multi-line reply, or sends a line without end, is cut off at the bound.</summary>
    [Fact]
    public void Reply_reader_bounds_endless_lines_and_endless_replies()
    {
        Gen.Int[FtpReplyReader.MaxLineBytes + 1, 4 * FtpReplyReader.MaxLineBytes].Sample(length =>
        {
            var input = Encoding.ASCII.GetBytes("220 " + new string('x', length));
            var e = Assert.Throws<FtpException>(() => ParserTargets.Reply(input));
            Assert.Equal("ReplyLineTooLong", e.ErrorId);
        }, iter: 20, threads: 1);
        var endless = new StringBuilder("220-start\r\n");
        for (int i = 0; i <= FtpReplyReader.MaxLinesPerReply + 1; i++) endless.Append("220-more\r\n");
        var error = Assert.Throws<FtpException>(() => ParserTargets.Reply(Encoding.ASCII.GetBytes(endless.ToString())));
        Assert.Equal("ReplyTooLong", error.ErrorId);
    }

    // ---- listing parsers ----------------------------------------------------------------------------------------

    private static readonly Gen<string> HostileName = Gen.Frequency(
        (3, Gen.String[Gen.Char.AlphaNumeric, 1, 20]),
        (2, Gen.OneOf("..", ".", "/", "\\", "../../etc/passwd", "/etc/passwd", "a/../../b", "sub/x", "C:\\x", "CON", "nul.txt", "x.", "x ",
            "\u001b[31mred", "a\0b", "\u202Egnp.exe", "é", "日本語", " leading", "\t", new string('n', 300))),
        (1, Gen.String[Gen.Char, 0, 40]));

    private static readonly Gen<string> MlsdLine = Gen.Frequency(
        (3, Gen.Select(
            Gen.OneOf("type=file;", "type=dir;", "type=cdir;", "type=pdir;", "type=OS.unix=symlink;", "type=;", ""),
            Gen.OneOf("size=1024;", "size=-1;", "size=99999999999999999999999;", "size=;", "size=abc;", ""),
            Gen.OneOf("modify=20260101120000;", "modify=20261301999999.999;", "modify=2026;", "modify=;", ""),
            Gen.OneOf("perm=adfr;", "unique=801U1;", "UNIX.mode=0777;", "x;", "==;", ";;", ""),
            Gen.OneOf(" ", "", "  "),
            HostileName).Select((t, s, m, o, sp, n) => t + s + m + o + sp + n)),
        (1, Gen.String[Gen.Char, 0, 200]));

    [Fact]
    public void Mlsd_parser_on_any_line_returns_an_item_or_null()
    {
        MlsdLine.Sample(line =>
        {
            Bounded(ParserTargets.Mlsd, Encoding.UTF8.GetBytes(line));
            FtpListItem? item = null;
            try { item = ListingParser.ParseMlsd(line, "/dir"); } catch (FtpException) { }
            // The name comes from what follows the facts' first space (its last '/'-segment, as MLST paths are
            // reduced to names): never a fact, never a name the server did not send.
            int space = line.IndexOf(' ');
            if (item != null && space >= 0) Assert.EndsWith(item.Name, line[(space + 1)..], StringComparison.Ordinal);
        }, iter: 5000, threads: 1);
        HostileBytes.Sample(b => Bounded(ParserTargets.Mlsd, b), iter: 1000, threads: 1);
    }

    private static readonly Gen<string> ListLine = Gen.Frequency(
        (3, Gen.Select(
            Gen.OneOf("-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "crw-------", "----------", "?", "-rw-r--r--+", "d"),
            Gen.OneOf(" 1", " 12", " 999999999999", " -1", ""),
            Gen.OneOf(" user group", " 0 0", " u", ""),
            Gen.OneOf(" 1024", " 0", " 99999999999999999999", " -5", " x", ""),
            Gen.OneOf(" Jan  1 12:00", " Feb 29  2024", " Dec 31 23:59", " Foo 99 99:99", " Jan 1 2026", ""),
            Gen.OneOf(" ", "  ", ""),
            HostileName).Select((p, l, o, s, d, sp, n) => p + l + o + s + d + sp + n)),
        (2, Gen.Select(
            Gen.OneOf("01-01-26", "12-31-99", "13-45-00", "1-1-1"), Gen.OneOf("  12:00PM", "  01:00AM", "  99:99XM"),
            Gen.OneOf("       <DIR>", "           1024", "  -1", " 99999999999999999999"), Gen.OneOf(" ", "  "),
            HostileName).Select((d, t, s, sp, n) => d + t + s + sp + n)),
        (1, Gen.String[Gen.Char, 0, 200]));

    [Fact]
    public void List_parser_on_any_line_returns_an_item_or_null()
    {
        ListLine.Sample(line => Bounded(ParserTargets.List, Encoding.UTF8.GetBytes(line)), iter: 5000, threads: 1);
        HostileBytes.Sample(b => Bounded(ParserTargets.List, b), iter: 1000, threads: 1);
    }

    // ---- LocalPathGuard -----------------------------------------------------------------------------------------

    /// <summary>For any name a server can send, ResolveUnder refuses it (UnsafeRemoteName) or returns a path inside the root.</summary>
    [Fact]
    public void Path_guard_refuses_or_resolves_inside_the_root_for_any_name()
    {
        string root = Path.Combine(Path.GetTempPath(), "secureftp-guard-root");
        string rootWithSeparator = Path.GetFullPath(root) + Path.DirectorySeparatorChar;
        var relative = HostileName.List[1, 5].Select(parts => string.Join("/", parts));
        Gen.Frequency((3, relative), (1, Gen.String[Gen.Char, 0, 300])).Sample(name =>
        {
            string path;
            try { path = LocalPathGuard.ResolveUnder(root, name); }
            catch (FtpException e)
            {
                Assert.Equal(LocalPathGuard.UnsafeNameErrorId, e.ErrorId);
                return;
            }
            Assert.StartsWith(rootWithSeparator, Path.GetFullPath(path), StringComparison.Ordinal);
            Assert.DoesNotContain("/../", path + "/", StringComparison.Ordinal);
            Assert.Null(name.Split('/').Select(LocalPathGuard.WhyUnsafe).FirstOrDefault(w => w != null));
        }, iter: 20000, threads: 1);
    }

    // ---- RFC 2228 ----------------------------------------------------------------------------------------------

    [Fact]
    public void Rfc2228_line_decoder_on_any_input_refuses_with_its_own_error()
        => HostileBytes.Sample(b => Bounded(ParserTargets.Rfc2228Lines, b), iter: 3000, threads: 1);

    /// <summary>A reply formatted for protection decodes back to the same reply.</summary>
    [Fact]
    public void Rfc2228_protected_reply_lines_round_trip()
    {
        var text = Gen.String[Gen.Char.AlphaNumeric, 0, 30];
        Gen.Select(Gen.Int[100, 599], text.List[1, 5]).Sample((code, lines) =>
        {
            var formatted = Rfc2228Lines.FormatReply(code, lines);
            var reply = Rfc2228Lines.ParseDecodedReply(formatted, 631);
            Assert.Equal(code, reply.Code);
            Assert.Equal(lines.Count, reply.Lines.Count);
            Assert.Equal(lines[^1], reply.Lines[^1]);
        }, iter: 2000, threads: 1);
    }

    /// <summary>RFC 2228 s.9 framing: any bytes (lengths that lie, tokens past PBSZ, a missing end-of-file block).</summary>
    [Fact]
    public void Rfc2228_block_decoder_on_any_input_refuses_with_its_own_error()
    {
        var lengthPrefixed = Gen.Select(Gen.Int[0, 70000], Gen.Byte.Array[0, 600]).Select((n, body) =>
        {
            var b = new byte[4 + body.Length];
            b[0] = (byte)(n >> 24); b[1] = (byte)(n >> 16); b[2] = (byte)(n >> 8); b[3] = (byte)n;
            body.CopyTo(b, 4);
            return b;
        });
        Gen.Frequency((1, HostileBytes), (2, lengthPrefixed.List[1, 4].Select(l => l.SelectMany(x => x).ToArray())))
            .Sample(b => Bounded(ParserTargets.Rfc2228Blocks, b), iter: 3000, threads: 1);
    }

    // ---- X-SafeTP1 and KEA-SKIPJACK -----------------------------------------------------------------------------

    [Fact]
    public void SafeTp_adat_decoders_on_any_message_refuse_with_their_own_error()
        => Gen.Byte.Array[0, 1500].Sample(b => Bounded(ParserTargets.SafeTpAdat, b), iter: 300, threads: 1);

    [Fact]
    public void SafeTp_block_decoders_on_any_token_refuse_with_their_own_error()
        => Gen.Byte.Array[0, 1500].Sample(b => Bounded(ParserTargets.SafeTpBlocks, b), iter: 2000, threads: 1);

    [Fact]
    public void Kea_adat_decoders_on_any_message_refuse_with_their_own_error()
        => Gen.Byte.Array[0, 1500].Sample(b => Bounded(ParserTargets.KeaAdat, b), iter: 300, threads: 1);

    [Fact]
    public void Kea_block_decoders_on_any_token_refuse_with_their_own_error()
        => Gen.Byte.Array[0, 1500].Sample(b => Bounded(ParserTargets.KeaBlocks, b), iter: 2000, threads: 1);

    /// <summary>Real ADAT messages altered the way a network attacker would (one byte flipped, cut short, extended):
    /// the receiving half refuses with the module's error, never with another exception.</summary>
    [Fact]
    public void Altered_real_adat_messages_are_refused_with_the_modules_own_error()
    {
        var safeTpM1 = SafeTp.SafeTpTestKit.Server().GetNextOutgoingAdat();
        var kit = new Kea.KeaTestKit();
        var keaFirst = new SecureFtp.Security.Kea.KeaServerSecurity(kit.ServerOptions()).GetNextOutgoingAdat();
        foreach (var (message, deliver) in new (byte[], Action<byte[]>)[]
                 {
                     (safeTpM1, m => SafeTp.SafeTpTestKit.Client().IncomingAdat(m)),
                     (keaFirst, m => new SecureFtp.Security.Kea.KeaClientSecurity(kit.ClientOptions()).IncomingAdat(m)),
                 })
        {
            Gen.Select(Gen.Int[0, message.Length - 1], Gen.Byte[1, 255], Gen.Int[0, 2]).Sample((at, xor, how) =>
            {
                byte[] altered = how switch
                {
                    0 => Flip(message, at, xor),
                    1 => message.AsSpan(0, at).ToArray(),
                    _ => message.Concat(new byte[at % 64 + 1]).ToArray(),
                };
                try { deliver(altered); }
                catch (FtpException) { }
            }, iter: 150, threads: 1);
        }
    }

    private static byte[] Flip(byte[] message, int at, byte xor)
    {
        var copy = (byte[])message.Clone();
        copy[at] ^= xor;
        return copy;
    }

    // ---- the embedded server's command reader -------------------------------------------------------------------

    private static readonly Gen<byte[]> CommandBytes = Gen.Frequency(
        (3, HostileBytes),
        (2, Gen.Select(Gen.OneOf("USER ", "PASS ", "HELP", "NOOP", "RETR ", "AUTH TLS", "ABOR", ""), Gen.String[Gen.Char, 0, 100], Gen.OneOf("\r\n", "\n", "\r", ""))
            .Select((v, a, e) => Encoding.UTF8.GetBytes(v + a + e)).List[1, 10].Select(l => l.SelectMany(x => x).ToArray())),
        (1, Gen.Select(Gen.Int[0, 300], Gen.OneOf(new byte[] { 0xFF, 0xF4 }, new byte[] { 0xFF, 0xFB, 1 }, new byte[] { 0xFF }, new byte[] { 0xFF, 0xF2 }))
            .Select((n, seq) => Enumerable.Repeat(seq, n).SelectMany(x => x).Concat("NOOP\r\n"u8.ToArray()).ToArray())));

    [Fact]
    public void Server_command_reader_on_any_bytes_returns_bounded_lines_or_refuses()
        => CommandBytes.Sample(b => Bounded(ParserTargets.ServerCommand, b), iter: 400, threads: 1);

    /// <summary>Issue 12: a run of escaped IAC bytes (0xFF 0xFF) with no other byte must hit the line bound as it
    /// arrives, not grow until the next ordinary byte (32 MiB of them cost the server hundreds of MB).</summary>
    [Fact]
    public void Server_command_reader_bounds_a_run_of_escaped_IAC_bytes()
    {
        var input = Enumerable.Repeat(new byte[] { 0xFF, 0xFF }, ServerControlChannel.MaxLineBytes * 4).SelectMany(x => x).ToArray();
        FtpException? refused = null;
        try { ParserTargets.ServerCommandLines(input); }
        catch (FtpException e) { refused = e; }
        Assert.NotNull(refused);
        Assert.Equal("CommandLineTooLong", refused!.ErrorId);
    }
}
