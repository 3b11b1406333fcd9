using System.Diagnostics;
using System.Management.Automation;
using System.Text;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.Hostile;

/// <summary>A server that never finishes answering must not hold the client: endless 1xx replies, multi-line replies
/// that never end, and replies dripped one byte at a time (so that no single read ever times out) all end in a
/// bounded time with an error that names what happened. Reply text shown to the user carries no escape sequences.</summary>
public sealed class HostileReplyTests : IAsyncLifetime
{
    private const int TimeoutSec = 2;
    private readonly HostileFtpServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);

    private ScriptResult Connect(HostedPowerShell ps) =>
        ps.Run($"Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism None -FallbackPolicy Allow -TimeoutSec {TimeoutSec}",
            ("hostName", _server.Host), ("port", _server.Port), ("credential", CmdletSessionTests.Credential("user", "pw")));

    /// <summary>Runs a script and returns its result and how long it took.</summary>
    private static (ScriptResult Result, TimeSpan Took) Timed(Func<ScriptResult> run)
    {
        var watch = Stopwatch.StartNew();
        var result = run();
        return (result, watch.Elapsed);
    }

    private static ErrorRecord SingleError(ScriptResult result)
    {
        var errors = result.Errors.Concat(result.Terminating is IContainsErrorRecord r ? new[] { r.ErrorRecord } : Array.Empty<ErrorRecord>()).ToList();
        return Assert.Single(errors);
    }

    /// <summary>A script that writes 150 forever, one every 20 ms, until the client hangs up or the test ends.</summary>
    private Func<Stream, Task> EndlessPreliminaries(string text = "150 still working") => async stream =>
    {
        while (!_server.Stopping.IsCancellationRequested)
        {
            await stream.WriteAsync(Ascii(text + "\r\n"), _server.Stopping);
            await Task.Delay(20, _server.Stopping);
        }
    };

    [Fact]
    public void A_command_answered_with_1xx_forever_fails_with_TooManyPreliminaryReplies()
    {
        var endless = EndlessPreliminaries();
        _server.Override = async (line, stream) =>
        {
            if (line != "SITE SLOW") return false;
            await endless(stream);
            return true;
        };
        using var ps = new HostedPowerShell();
        Connect(ps).ThrowOnError();

        var (result, took) = Timed(() => ps.Run("Invoke-FtpCommand 'SITE SLOW'"));

        var error = SingleError(result);
        Assert.Equal("TooManyPreliminaryReplies,SecureFtp.PowerShell.Commands.InvokeFtpCommandCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ProtocolError, error.CategoryInfo.Category);
        Assert.Contains("preliminary (1xx)", error.Exception.Message);
        Assert.True(took < TimeSpan.FromSeconds(20), $"took {took}");
        // The session is closed: nothing after an endless reply can be trusted to answer the next command.
        Assert.Equal(false, ps.Run("(Get-SecureFtpSession -Current).IsConnected").Single());
    }

    [Fact]
    public void A_listing_followed_by_1xx_forever_fails_with_TooManyPreliminaryReplies()
    {
        _server.Listing = _ => "-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 a.txt\r\n";
        _server.TransferCompletion = EndlessPreliminaries("150 not done yet");
        using var ps = new HostedPowerShell();
        Connect(ps).ThrowOnError();

        var (result, took) = Timed(() => ps.Run("Get-FtpChildItem"));

        Assert.Equal("TooManyPreliminaryReplies", SingleError(result).FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(took < TimeSpan.FromSeconds(20), $"took {took}");
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData(" x")]                      // millions of short lines: the line count stops it
    [InlineData(" 8000 bytes of feature")]  // long lines: the byte count stops it
    public async Task A_multi_line_reply_that_never_ends_is_refused_without_reading_it_all(string shape)
    {
        string line = (shape.StartsWith(" 8000", StringComparison.Ordinal) ? shape.PadRight(8000, 'x') : shape) + "\r\n";
        long sent = 0;
        var flood = new TaskCompletionSource();
        _server.Override = async (command, stream) =>
        {
            if (command != "FEAT") return false;
            var chunk = Ascii(string.Concat(Enumerable.Repeat(line, Math.Max(1, 64 * 1024 / line.Length))));
            try
            {
                await stream.WriteAsync(Ascii("211-Features:\r\n"), _server.Stopping);
                while (!_server.Stopping.IsCancellationRequested)
                {
                    await stream.WriteAsync(chunk, _server.Stopping);
                    Interlocked.Add(ref sent, chunk.Length);
                }
            }
            finally { flood.TrySetResult(); }
            return true;
        };
        using var ps = new HostedPowerShell();

        var (result, took) = Timed(() => Connect(ps));

        var error = SingleError(result);
        Assert.Equal("ReplyTooLong", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("211", error.Exception.Message);
        Assert.True(took < TimeSpan.FromSeconds(20), $"took {took}");
        // The client hung up: the flood ended by itself (its writes failed), well before the test ended it.
        Assert.Same(flood.Task, await Task.WhenAny(flood.Task, Task.Delay(TimeSpan.FromSeconds(15))));
        Assert.False(_server.Stopping.IsCancellationRequested);
        // Memory: the client stopped at its 1 MiB reply limit; what the server got out beyond that is what the
        // loopback socket buffers held. A client that kept the reply would have let the flood run to the end of the test.
        Assert.True(Interlocked.Read(ref sent) < 48L * 1024 * 1024, $"the server sent {Interlocked.Read(ref sent)} bytes before the client hung up");
    }

    [Fact]
    public void A_reply_dripped_a_byte_at_a_time_fails_with_SlowReply_after_the_reply_timeout()
    {
        _server.Override = async (line, stream) =>
        {
            if (line != "SITE DRIP") return false;
            // Complete lines now and then, so each read succeeds well within any per-read timeout.
            var text = Ascii("211-status follows\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n line\r\n");
            for (int i = 0; !_server.Stopping.IsCancellationRequested; i++)
            {
                await stream.WriteAsync(text.AsMemory(i % text.Length, 1), _server.Stopping);
                await Task.Delay(100, _server.Stopping);
            }
            return true;
        };
        using var ps = new HostedPowerShell();
        Connect(ps).ThrowOnError();

        var (result, took) = Timed(() => ps.Run("Invoke-FtpCommand 'SITE DRIP'"));

        var error = SingleError(result);
        Assert.Equal("SlowReply", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
        Assert.Contains("began a reply but had not finished it", error.Exception.Message);
        Assert.True(took >= TimeSpan.FromSeconds(TimeoutSec - 0.5) && took < TimeSpan.FromSeconds(TimeoutSec + 10), $"took {took}");
    }

    [Fact]
    public void A_greeting_dripped_a_byte_at_a_time_fails_the_connection_with_SlowReply()
    {
        _server.Greeting = async stream =>
        {
            foreach (var b in Ascii("220-welcome\r\n" + new string('.', 1000)))
            {
                await stream.WriteAsync(new[] { b }, _server.Stopping);
                await Task.Delay(50, _server.Stopping);
            }
        };
        using var ps = new HostedPowerShell();

        var (result, took) = Timed(() => Connect(ps));

        Assert.Equal("SlowReply", SingleError(result).FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(took < TimeSpan.FromSeconds(TimeoutSec + 10), $"took {took}");
    }

    [Fact]
    public void A_server_that_says_nothing_is_still_a_ControlTimeout()
    {
        _server.Override = async (line, stream) =>
        {
            if (line != "SITE SILENT") return false;
            await Task.Delay(Timeout.Infinite, _server.Stopping);
            return true;
        };
        using var ps = new HostedPowerShell();
        Connect(ps).ThrowOnError();

        var (result, took) = Timed(() => ps.Run("Invoke-FtpCommand 'SITE SILENT'"));

        Assert.Equal("ControlTimeout", SingleError(result).FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(took < TimeSpan.FromSeconds(TimeoutSec + 10), $"took {took}");
    }

    private const string Hostile = "\u001b]0;pwned\u0007\u001b[2J\u009b31m";

    private static void AssertNoTerminalControls(string text)
    {
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u0007', text);
        Assert.DoesNotContain('\u009b', text);
    }

    [Fact]
    public void Reply_text_in_an_error_is_shown_without_escape_sequences_while_the_reply_keeps_it()
    {
        _server.Override = async (line, stream) =>
        {
            if (!line.StartsWith("MKD ", StringComparison.Ordinal)) return false;
            await stream.WriteAsync(Ascii($"550-{Hostile} first\r\n550 denied {Hostile} here\r\n"));
            return true;
        };
        using var ps = new HostedPowerShell();
        Connect(ps).ThrowOnError();

        var result = ps.Run("New-FtpDirectory -Path /x");

        var error = SingleError(result);
        AssertNoTerminalControls(error.Exception.Message);
        AssertNoTerminalControls(error.ToString());
        Assert.Contains("denied", error.Exception.Message);
        Assert.Contains("\u241B]0;pwned", error.Exception.Message);   // shown as the visible ESC symbol
        // Display only: the reply object keeps exactly what the server sent.
        // (The module runs in its own load context: its FtpException is not this assembly's, hence dynamic.)
        Assert.Contains(Hostile, (string)((dynamic)error.Exception).Reply.Message);
    }

    [Fact]
    public void A_login_refusal_and_verbose_messages_carry_no_escape_sequences()
    {
        using var ps = new HostedPowerShell();
        _server.Override = async (line, stream) =>
        {
            if (!line.StartsWith("PASS ", StringComparison.Ordinal)) return false;
            await stream.WriteAsync(Ascii($"530 {Hostile}no\r\n"));
            return true;
        };
        var refused = Connect(ps);
        var error = SingleError(refused);
        Assert.Equal("LoginRefused", error.FullyQualifiedErrorId.Split(',')[0]);
        AssertNoTerminalControls(error.Exception.Message);

        // A listing line the parser does not understand is reported on the verbose stream, quoted.
        _server.Override = null;
        _server.Listing = _ => $"garbage {Hostile} line\r\n";
        Connect(ps).ThrowOnError();
        var listed = ps.Run("Get-FtpChildItem -Verbose");
        Assert.Contains(listed.Verbose, v => v.Contains("garbage", StringComparison.Ordinal));
        Assert.All(listed.Verbose, AssertNoTerminalControls);
        // The reply view (Invoke-FtpCommand output, SecureFtp.Format.ps1xml) shows DisplayMessage, the sanitized text.
        _server.Override = async (line, stream) =>
        {
            if (line != "SITE ECHO") return false;
            await stream.WriteAsync(Ascii($"200 {Hostile}ok\r\n"));
            return true;
        };
        var shown = ps.Run("$r = Invoke-FtpCommand 'SITE ECHO'; $r.DisplayMessage; $r.Message").ThrowOnError();
        AssertNoTerminalControls(shown.Output[0].ToString()!);
        Assert.Contains(Hostile, shown.Output[1].ToString());
    }
}
