using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Trust;
using Xunit;

namespace SecureFtp.Tests.Rfc2228;

/// <summary>The client side of the loopback tests: a control connection negotiated with X-SafeTP1 through the
/// framework exactly as the client session does it, and data connections through the session.</summary>
internal static class LoopbackClient
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<(FtpControlConnection Control, Rfc2228SecuritySession Session, ControlTranscript Transcript)> ConnectAsync(
        int port, FtpClientOptions options, ITrustStore store, Func<FtpControlConnection, Task>? beforeAuth = null, bool digest = true)
    {
        var control = await FtpControlConnection.OpenAsync("127.0.0.1", port, Timeout, new UTF8Encoding(false), CancellationToken.None);
        try
        {
            var transcript = ControlTranscript.AttachTo(control);
            var greeting = await control.ReadReplyAsync(CancellationToken.None);
            Assert.Equal(220, greeting.Code);
            if (beforeAuth != null) await beforeAuth(control);
            var mechanism = SafeTpMechanism.CreateClient(options, store, digest ? transcript : null);
            var session = await mechanism.NegotiateAsync(control, new SecurityNegotiationContext(options), CancellationToken.None);
            return (control, Assert.IsType<Rfc2228SecuritySession>(session), transcript);
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>PASV, the command, the 150, then the protected stream as the client session gives it.
    /// <paramref name="redirect"/> stands for a network attacker who takes over the data connection.</summary>
    public static async Task<Stream> OpenDataAsync(FtpControlConnection control, string command, Rfc2228SecuritySession session, Func<int, int>? redirect = null)
    {
        var pasv = await control.ExecuteAsync("PASV", CancellationToken.None);
        var m = Regex.Match(pasv.Message, @"\(127,0,0,1,(\d+),(\d+)\)");
        int port = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 256 + int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (redirect != null) port = redirect(port);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        Assert.Equal(150, (await control.ExecuteAsync(command, CancellationToken.None)).Code);
        return await session.OpenDataStreamAsync(new NetworkStream(socket, ownsSocket: true), DataProtectionLevel.Private, DataStreamRole.Client, CancellationToken.None);
    }

    public static async Task ProtectDataAsync(FtpControlConnection control, Rfc2228SecuritySession session)
    {
        Assert.Equal(200, (await control.ExecuteAsync("PBSZ 65536", CancellationToken.None)).Code);
        session.SetBufferSize(65536);
        Assert.Equal(200, (await control.ExecuteAsync("PROT P", CancellationToken.None)).Code);
    }
}
