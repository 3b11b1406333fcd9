using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using SecureFtp.Protocol;
using SecureFtp.Security;
using SecureFtp.Security.Rfc2228;
using SecureFtp.Security.SafeTp;
using SecureFtp.Trust;

namespace SecureFtp.Bench.Mechanisms;

/// <summary>An X-SafeTP1 session that proposes a chosen PBSZ. FtpClient always proposes the mechanism's largest
/// buffer (it has no option for it), so this drives the engine's own client half of RFC 2228 directly, the way
/// the server tests do: the same <see cref="Rfc2228ClientMechanism"/>, control protection and
/// <see cref="ProtectedDataStream"/> that FtpClient uses, with PASV/RETR written out here.</summary>
internal sealed partial class SafeTpPbszSession : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly FtpControlConnection _control;
    private readonly Rfc2228SecuritySession _session;

    private SafeTpPbszSession(FtpControlConnection control, Rfc2228SecuritySession session)
    {
        _control = control;
        _session = session;
    }

    /// <summary>The PBSZ the server agreed to.</summary>
    public int BufferSize => _session.BufferSize;

    public static async Task<SafeTpPbszSession> ConnectAsync(FtpClientOptions options, int proposedBufferSize, CancellationToken ct)
    {
        var control = await FtpControlConnection.OpenAsync(options.Host, options.Port, Timeout, new UTF8Encoding(false), ct);
        try
        {
            var transcript = ControlTranscript.AttachTo(control);
            Expect(220, await control.ReadReplyAsync(ct));
            var mechanism = SafeTpMechanism.CreateClient(options, new FileTrustStore(options.TrustStorePath), transcript);
            mechanism.ProposedBufferSize = proposedBufferSize;
            var session = (Rfc2228SecuritySession?)await mechanism.NegotiateAsync(control, new SecurityNegotiationContext(options), ct)
                ?? throw new InvalidOperationException("The server refused AUTH X-SafeTP1.");
            Expect(331, await control.ExecuteAsync("USER " + options.Credential!.UserName, ct));
            Expect(230, await control.ExecuteAsync("PASS " + options.Credential.Password, ct));
            var pbsz = Expect(200, await control.ExecuteAsync("PBSZ " + session.ProposedBufferSize, ct));
            session.SetBufferSize(int.Parse(PbszAnswer().Match(pbsz.Message).Groups[1].Value, CultureInfo.InvariantCulture));
            Expect(200, await control.ExecuteAsync("PROT P", ct));
            Expect(200, await control.ExecuteAsync("TYPE I", ct));
            return new SafeTpPbszSession(control, session);
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>Downloads <paramref name="remotePath"/> and discards it; returns the seconds from EPSV to the 226.</summary>
    public async Task<double> DownloadAsync(string remotePath, long expectedLength, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var epsv = Expect(229, await _control.ExecuteAsync("EPSV", ct));
        int port = int.Parse(EpsvPort().Match(epsv.Message).Groups[1].Value, CultureInfo.InvariantCulture);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(_control.RemoteEndPoint.Address, port), ct);
        var start = await _control.ExecuteAsync("RETR " + remotePath, ct);
        if (start.Code is not (125 or 150)) throw new InvalidOperationException($"RETR answered {start}");
        long received = 0;
        bool complete;
        using (var data = await _session.OpenDataStreamAsync(new NetworkStream(socket, ownsSocket: true), DataProtectionLevel.Private, DataStreamRole.Client, ct))
        {
            var buffer = new byte[1024 * 1024];
            int n;
            while ((n = await data.ReadAsync(buffer, ct)) > 0) received += n;
            complete = ((ProtectedDataStream)data).ReachedEndOfFile;
        }
        Expect(226, await _control.ReadReplyAsync(ct));
        clock.Stop();
        if (!complete || received != expectedLength)
            throw new InvalidOperationException($"Download of {remotePath} incomplete: {received} of {expectedLength} bytes, end-of-file block {(complete ? "seen" : "missing")}.");
        return clock.Elapsed.TotalSeconds;
    }

    private static FtpReply Expect(int code, FtpReply reply)
        => reply.Code == code ? reply : throw new InvalidOperationException($"Expected {code}, got {reply}");

    [GeneratedRegex(@"PBSZ=(\d+)")]
    private static partial Regex PbszAnswer();

    [GeneratedRegex(@"\(\|\|\|(\d+)\|\)")]
    private static partial Regex EpsvPort();

    public void Dispose()
    {
        _session.Dispose();
        _control.Dispose();
    }
}
