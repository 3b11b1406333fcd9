using System.Management.Automation;
using System.Net;
using System.Text;
using SecureFtp.Tests.PowerShell;
using Xunit;

namespace SecureFtp.Tests.Hostile;

/// <summary>A password FTP cannot carry (a line break would end PASS early and turn the rest into a command of its
/// own) is refused before anything is sent, and no secret reaches an error record, an exception chain, a warning or
/// the verbose stream, whatever the input or the server does.</summary>
public sealed class CredentialLeakTests : IAsyncLifetime
{
    private readonly HostileFtpServer _server = new();
    private static readonly System.Buffers.SearchValues<char> LineBreaks = System.Buffers.SearchValues.Create("\r\n\0");

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Everything a user, a log or a transcript could see of a failed pipeline.</summary>
    private static IEnumerable<string> EverythingShown(ScriptResult result)
    {
        var records = result.Errors.Concat(result.Terminating is IContainsErrorRecord r ? new[] { r.ErrorRecord } : Array.Empty<ErrorRecord>());
        foreach (var e in records)
        {
            yield return e.ToString();
            yield return e.FullyQualifiedErrorId;
            yield return e.ErrorDetails?.Message ?? "";
            yield return e.ErrorDetails?.RecommendedAction ?? "";
            yield return e.CategoryInfo.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            yield return e.TargetObject?.ToString() ?? "";
            for (Exception? x = e.Exception; x != null; x = x.InnerException)
            {
                yield return x.Message;
                yield return x.ToString();
                if (x is FtpException { Reply: { } reply }) yield return reply.ToString();
            }
        }
        if (result.Terminating != null) yield return result.Terminating.ToString();
        foreach (var w in result.Warnings) yield return w;
        foreach (var v in result.Verbose) yield return v;
        foreach (var o in result.Output) yield return o?.ToString() ?? "";
    }

    private static void AssertNowhere(string secret, ScriptResult result)
    {
        foreach (var text in EverythingShown(result))
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"the secret appears in: {text}");
    }

    private ScriptResult Connect(HostedPowerShell ps, PSCredential credential) =>
        ps.Run("Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism None -FallbackPolicy Allow -TimeoutSec 5 -Verbose",
            ("hostName", _server.Host), ("port", _server.Port), ("credential", credential));

    [Theory]
    [InlineData("s3cret-pw\r\nDELE /important")]   // CRLF: the rest would be a command of its own
    [InlineData("s3cret-pw\nSITE CHMOD 777 /")]      // a bare LF does the same on most servers
    [InlineData("s3cret-pw\rx")]
    [InlineData("s3cret-pw\0tail")]                  // NUL: a C server would check "s3cret-pw" only
    public void A_password_FTP_cannot_carry_is_refused_before_anything_is_sent_and_never_shown(string password)
    {
        using var ps = new HostedPowerShell();
        var result = Connect(ps, CmdletSessionTests.Credential("user", password));

        var error = Assert.Single(result.Errors);
        Assert.Equal("InvalidCredential,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.Contains("password", error.Exception.Message);
        // Nothing was sent: the server never even saw a connection.
        Assert.Equal(0, _server.Connections);
        AssertNowhere("s3cret-pw", result);
        string tail = password.Substring(password.AsSpan().IndexOfAny(LineBreaks) + 1);
        if (tail.Length > 3) AssertNowhere(tail, result);
    }

    [Theory]
    [InlineData("bob\r\nPASS x", "user name")]
    [InlineData("bob\0", "user name")]
    public void A_user_name_FTP_cannot_carry_is_refused_before_anything_is_sent(string user, string what)
    {
        using var ps = new HostedPowerShell();
        var result = Connect(ps, CmdletSessionTests.Credential(user, "pw"));

        Assert.Equal("InvalidCredential", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(what, result.Errors[0].Exception.Message);
        Assert.Equal(0, _server.Connections);
    }

    [Fact]
    public async Task An_account_or_a_character_the_encoding_cannot_carry_is_refused_before_connecting()
    {
        async Task<FtpException> Refused(NetworkCredential credential, Encoding encoding) =>
            await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(new FtpClientOptions
            {
                Host = _server.Host, Port = _server.Port, Credential = credential, Encoding = encoding,
                Mechanisms = new List<FtpMechanism> { FtpMechanism.None },
            }));

        // ÿ is byte 0xFF in Latin-1: the Telnet IAC escape, which a server may swallow.
        var iac = await Refused(new NetworkCredential("user", "pa\u00FFss-secret"), Encoding.Latin1);
        Assert.Equal("InvalidCredential", iac.ErrorId);
        Assert.Contains("IAC", iac.Message);
        // é cannot be written in ASCII: it would go out as '?' and the server would check another password.
        var ascii = await Refused(new NetworkCredential("user", "caf\u00E9-secret"), Encoding.ASCII);
        Assert.Equal("InvalidCredential", ascii.ErrorId);
        Assert.Null(ascii.InnerException);   // the encoder's own exception names the character: not kept
        var account = await Refused(new NetworkCredential("user", "pw", "acct\r\nsecret"), Encoding.UTF8);
        Assert.Contains("account", account.Message);
        foreach (var e in new[] { iac, ascii, account })
            Assert.DoesNotContain("secret", e.ToString());
        Assert.Equal(0, _server.Connections);

        // UTF-8 carries any password (RFC 2640): nothing refused there.
        using var client = await FtpClient.ConnectAsync(new FtpClientOptions
        {
            Host = _server.Host, Port = _server.Port, Credential = new NetworkCredential("user", "p\u00E4ss\u00FF\u4E2D"),
            Mechanisms = new List<FtpMechanism> { FtpMechanism.None },
        });
        Assert.Contains("PASS p\u00E4ss\u00FF\u4E2D", _server.Commands);
    }

    [Fact]
    public void A_raw_PASS_command_with_a_line_break_is_refused_without_its_text()
    {
        using var ps = new HostedPowerShell();
        Connect(ps, CmdletSessionTests.Credential("user", "pw")).ThrowOnError();

        var result = ps.Run("Invoke-FtpCommand \"PASS raw-secret`r`nDELE /x\" -Verbose");

        Assert.Equal("InvalidArgument", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("PASS", result.Errors[0].Exception.Message);
        AssertNowhere("raw-secret", result);
        Assert.DoesNotContain(_server.Commands, c => c.Contains("raw-secret") || c.StartsWith("DELE", StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_that_echoes_the_password_in_its_refusal_does_not_get_it_shown()
    {
        _server.Override = async (line, stream) =>
        {
            if (!line.StartsWith("PASS ", StringComparison.Ordinal)) return false;
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"530 Login incorrect: '{line[5..]}' is not the password\r\n"));
            return true;
        };
        using var ps = new HostedPowerShell();

        var result = Connect(ps, CmdletSessionTests.Credential("user", "correct-horse-battery"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("LoginRefused", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("is not the password", error.Exception.Message);
        // The exception's Reply keeps the raw reply (it is data, not display); everything shown is clean.
        Assert.DoesNotContain("correct-horse-battery", error.Exception.Message);
        Assert.DoesNotContain("correct-horse-battery", error.ToString());
        Assert.All(result.Verbose.Concat(result.Warnings), v => Assert.DoesNotContain("correct-horse-battery", v));
    }

    [Fact]
    public async Task A_password_echoed_by_the_server_reaches_no_trace_verbose_or_exception_message()
    {
        _server.Override = async (line, stream) =>
        {
            if (!line.StartsWith("PASS ", StringComparison.Ordinal)) return false;
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"530-You sent {line[5..]}\r\n530 and {line[5..]} is wrong\r\n"));
            return true;
        };
        var shown = new List<string>();
        var e = await Assert.ThrowsAsync<FtpException>(() => FtpClient.ConnectAsync(new FtpClientOptions
        {
            Host = _server.Host, Port = _server.Port, Credential = new NetworkCredential("user", "correct-horse-battery"),
            Mechanisms = new List<FtpMechanism> { FtpMechanism.None },
            Trace = (_, line) => { lock (shown) shown.Add(line); },
            Verbose = m => { lock (shown) shown.Add(m); },
            Warning = m => { lock (shown) shown.Add(m); },
        }));

        Assert.Equal("LoginRefused", e.ErrorId);
        Assert.Contains(shown, l => l.StartsWith("PASS", StringComparison.Ordinal));   // the trace saw the exchange...
        Assert.Contains(shown, l => l.Contains("You sent ****", StringComparison.Ordinal));
        Assert.All(shown, l => Assert.DoesNotContain("correct-horse-battery", l));      // ...and not the password
        Assert.DoesNotContain("correct-horse-battery", e.Message);
    }
}
