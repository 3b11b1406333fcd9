using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using SecureFtp.Security.Tls;

namespace SecureFtp.Tests.Faults;

/// <summary>What goes wrong, once, on the first transfer that reaches it.</summary>
public enum FaultKind
{
    /// <summary>A faithful relay.</summary>
    None,
    /// <summary>The data connection ends (TCP FIN) after <see cref="Fault.AtByte"/> payload bytes, without TLS close_notify.</summary>
    CutData,
    /// <summary>The data connection ends after <see cref="Fault.AtByte"/> bytes looking complete (close_notify under
    /// TLS, FIN in clear): the server's lie that only a length check catches.</summary>
    CutDataCleanly,
    /// <summary>Both legs of the data connection get a TCP RST (SO_LINGER 0) after <see cref="Fault.AtByte"/> bytes.</summary>
    ResetData,
    /// <summary>The data stops after <see cref="Fault.AtByte"/> bytes for <see cref="Fault.Delay"/> (forever when null).</summary>
    StallData,
    /// <summary>The control connection ends (FIN on both legs) once the data reached <see cref="Fault.AtByte"/>.</summary>
    DropControl,
    /// <summary>The control connection is reset (RST on both legs) once the data reached <see cref="Fault.AtByte"/>.</summary>
    ResetControl,
    /// <summary>At <see cref="Fault.AtByte"/> the relay tells the client "226 Transfer complete" and sends the rest of the
    /// data 300 ms later; the server's own final reply is swallowed: the completion reply comes before the data's end.</summary>
    Early226,
    /// <summary>The transfer's final reply is held back for <see cref="Fault.Delay"/>.</summary>
    Late226,
    /// <summary>The transfer's final reply is swallowed: the client never hears how the transfer ended.</summary>
    Never226,
    /// <summary>The client gets "226 Transfer complete" before the transfer's 1xx reply (and the server's own final
    /// reply is swallowed): 226 before 150.</summary>
    Reorder150And226,
}

/// <summary>One fault: what, where (payload bytes on the data connection) and for how long.</summary>
public sealed record Fault(FaultKind Kind, long AtByte = 0, TimeSpan? Delay = null)
{
    public override string ToString() => Kind + (AtByte > 0 ? "@" + AtByte : "") + (Delay is { } d ? $"+{d.TotalSeconds:0.#}s" : "");
}

/// <summary>A fault-injecting relay on 127.0.0.1 between an FTP client and a real server (vsftpd, the embedded server).
/// It relays the control connection command by command, and rewrites every 227 (PASV) and 229 (EPSV) reply to a port
/// of its own, so data connections go through it too. After AUTH TLS it terminates TLS on both legs: towards the
/// client with the server's own certificate (the test's pin still matches), towards the server with the engine's
/// libssl channel, whose data connections resume the control session as vsftpd's require_ssl_reuse demands. It
/// therefore sees every reply and every payload byte in clear and can cut, reset, stall or reorder at an exact
/// payload offset. The fault fires once, on the first transfer that reaches it; later sessions (the resume) pass.</summary>
public sealed class FaultRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = new();
    private readonly List<Socket> _sockets = new();
    private readonly Task _accepting;
    private int _armed = 1;
    private int _faultsFired;

    public FaultRelay(int serverPort, X509Certificate2 certificate, Fault fault)
    {
        _serverPort = serverPort;
        _certificate = certificate;
        Fault = fault;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public Fault Fault { get; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many times the fault was injected (0 when no transfer reached it, 1 after).</summary>
    public int FaultsFired => Volatile.Read(ref _faultsFired);

    /// <summary>Payload bytes relayed on data connections so far (both directions, all sessions).</summary>
    public long DataBytesRelayed => Interlocked.Read(ref _dataBytes);
    private long _dataBytes;

    /// <summary>What the relay saw: commands, replies (as the client got them) and the faults it fired.</summary>
    public string Transcript { get { lock (_transcript) return _transcript.ToString(); } }
    private readonly StringBuilder _transcript = new();
    private void Note(string line) { lock (_transcript) _transcript.Append(line).Append('\n'); }

    /// <summary>Takes the fault for this transfer if it is still armed; after that the relay is faithful.</summary>
    private Fault? TakeFault()
    {
        if (Fault.Kind == FaultKind.None || Interlocked.Exchange(ref _armed, 0) == 0) return null;
        return Fault;
    }

    private void Fired(string what)
    {
        Interlocked.Increment(ref _faultsFired);
        Note("!! fault " + what);
    }

    private Socket Track(Socket s) { lock (_sockets) _sockets.Add(s); return s; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = Track(await _listener.AcceptSocketAsync(_stop.Token)); }
            catch { return; }
            lock (_tasks) _tasks.Add(Task.Run(() => RunSessionAsync(client)));
        }
    }

    /// <summary>One control session and the transfers it starts.</summary>
    private sealed class Session
    {
        public required Socket ClientSocket;
        public required Socket ServerSocket;
        public required CancellationTokenSource Ended;
        public Stream Client = Stream.Null;
        public Stream Server = Stream.Null;
        /// <summary>Replies to the client come from the reply pump and, for a fabricated 226, from a data pump.</summary>
        public readonly SemaphoreSlim ClientWrite = new(1, 1);
        public OpenSslContext? Tls;
        public OpenSslChannel? ServerControlTls;
        public bool ProtectData;
        /// <summary>Commands sent and not yet answered, in order, each with a signal for its final reply.</summary>
        public readonly System.Collections.Concurrent.ConcurrentQueue<(string Command, TaskCompletionSource<string> Answered)> Awaiting = new();
        public readonly SemaphoreSlim CommandsSent = new(0);
        /// <summary>The transfer whose data connection was set up last and whose command is not yet answered.</summary>
        public Transfer? Current;
    }

    /// <summary>One data connection and the fault it carries.</summary>
    private sealed class Transfer
    {
        public Fault? Fault;
        /// <summary>The relay already told the client the transfer is complete; the server's own final reply is swallowed.</summary>
        public volatile bool FinalFabricated;
        public readonly TaskCompletionSource FinalReplySent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>The transfer's 1xx reached the client (a clear-text server may send data before its 150).</summary>
        public readonly TaskCompletionSource PreliminarySent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task RunSessionAsync(Socket clientSocket)
    {
        var serverSocket = Track(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var s = new Session { ClientSocket = clientSocket, ServerSocket = serverSocket, Ended = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token) };
        try
        {
            await serverSocket.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            s.Client = new NetworkStream(clientSocket, ownsSocket: false);
            s.Server = new NetworkStream(serverSocket, ownsSocket: false);
            await RelayRepliesAsync(s, command: null); // the greeting, before any command
            // Full duplex, as the network is: commands flow while a transfer's replies are awaited (ABOR), and a client
            // that hangs up ends the session's data connections too.
            var replies = Task.Run(() => ReplyPumpAsync(s));
            var commands = Task.Run(() => CommandPumpAsync(s));
            await Task.WhenAny(replies, commands);
        }
        catch (Exception e) when (IsNetworkEnd(e))
        {
            Note("control ended: " + e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            s.Ended.Cancel();
            Close(clientSocket, reset: false);
            Close(serverSocket, reset: false);
            s.ServerControlTls?.Dispose();
            s.Tls?.Dispose();
        }
    }

    private static bool IsNetworkEnd(Exception e) => e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
        or System.Security.Authentication.AuthenticationException or FtpException or TimeoutException;

    private async Task CommandPumpAsync(Session s)
    {
        try
        {
            while (await ReadLineAsync(s.Client) is { } command)
            {
                Note("> " + (command.StartsWith("PASS ", StringComparison.OrdinalIgnoreCase) ? "PASS ****" : command));
                var answered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                s.Awaiting.Enqueue((command, answered));
                s.CommandsSent.Release();
                await WriteLineAsync(s.Server, command);
                string verb = command.Split(' ')[0].ToUpperInvariant();
                // Nothing may be read past AUTH until both legs have turned to TLS.
                if (verb == "AUTH") await answered.Task.WaitAsync(s.Ended.Token);
            }
            Note("-- the client hung up");
        }
        catch (Exception e) when (IsNetworkEnd(e)) { Note("command pump ended: " + e.Message); }
    }

    private async Task ReplyPumpAsync(Session s)
    {
        try
        {
            while (true)
            {
                await s.CommandsSent.WaitAsync(s.Ended.Token);
                s.Awaiting.TryDequeue(out var pending);
                string final = await RelayRepliesAsync(s, pending.Command);
                string verb = pending.Command.Split(' ')[0].ToUpperInvariant();
                if (verb == "AUTH" && final.StartsWith("234", StringComparison.Ordinal))
                    await StartTlsAsync(s);
                else if (verb == "PROT" && final.StartsWith("200", StringComparison.Ordinal))
                    s.ProtectData = pending.Command.Length > 5 && char.ToUpperInvariant(pending.Command[5]) == 'P';
                pending.Answered.TrySetResult(final);
            }
        }
        catch (Exception e) when (IsNetworkEnd(e)) { Note("reply pump ended: " + e.Message); }
    }

    private async Task StartTlsAsync(Session s)
    {
        s.Tls = new OpenSslContext(System.Security.Authentication.SslProtocols.None);
        var toServer = OpenSslChannel.ConnectAsync(s.Tls, s.Server, ownsRaw: false, "localhost", isData: false, null, null, (_, _) => null, _stop.Token);
        var toClient = new SslStream(s.Client, leaveInnerStreamOpen: true);
        await Task.WhenAll(toServer, toClient.AuthenticateAsServerAsync(_certificate));
        s.ServerControlTls = await toServer;
        s.Server = s.ServerControlTls;
        s.Client = toClient;
        Note("-- TLS on both legs");
    }

    private static readonly Regex Pasv = new(@"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})");
    private static readonly Regex Epsv = new(@"\(\|\|\|(\d{1,5})\|\)");

    private async Task SendToClientAsync(Session s, string line)
    {
        await s.ClientWrite.WaitAsync(s.Ended.Token);
        try { await WriteLineAsync(s.Client, line); }
        finally { s.ClientWrite.Release(); }
        Note("< " + line);
    }

    /// <summary>Relays reply lines until a final reply's last line, which it returns; rewrites passive replies and
    /// applies the reply faults of the transfer <paramref name="command"/> started.</summary>
    private async Task<string> RelayRepliesAsync(Session s, string? command)
    {
        bool transferCommand = command != null && IsTransferCommand(command);
        while (true)
        {
            string line = await ReadLineAsync(s.Server) ?? throw new IOException("the server hung up");
            bool last = line.Length >= 4 && char.IsAsciiDigit(line[0]) && char.IsAsciiDigit(line[1]) && char.IsAsciiDigit(line[2]) && line[3] == ' ';
            if (last && line.StartsWith("227", StringComparison.Ordinal) && Pasv.Match(line) is { Success: true } pm)
            {
                int port = int.Parse(pm.Groups[5].Value, CultureInfo.InvariantCulture) * 256 + int.Parse(pm.Groups[6].Value, CultureInfo.InvariantCulture);
                int mine = OpenDataRelay(s, port);
                line = line[..pm.Index] + $"127,0,0,1,{mine >> 8},{mine & 255}" + line[(pm.Index + pm.Length)..];
            }
            else if (last && line.StartsWith("229", StringComparison.Ordinal) && Epsv.Match(line) is { Success: true } em)
            {
                int mine = OpenDataRelay(s, int.Parse(em.Groups[1].Value, CultureInfo.InvariantCulture));
                line = line[..em.Index] + $"(|||{mine}|)" + line[(em.Index + em.Length)..];
            }
            bool preliminary = last && line[0] == '1';
            var transfer = transferCommand ? s.Current : null;
            var fault = transfer?.Fault;
            if (preliminary && fault?.Kind == FaultKind.Reorder150And226 && !transfer!.FinalFabricated)
            {
                // The final reply first, then the 1xx: the server's real final reply is swallowed when it comes.
                transfer.FinalFabricated = true;
                Fired("226 sent before " + line);
                await SendToClientAsync(s, "226 Transfer complete.");
                await SendToClientAsync(s, line);
                transfer.FinalReplySent.TrySetResult();
                continue;
            }
            if (last && !preliminary && transfer != null)
            {
                s.Current = null;
                if (transfer.FinalFabricated)
                {
                    Note("!! swallowed the server's own " + line);
                    return line;
                }
                switch (fault?.Kind)
                {
                    case FaultKind.Never226:
                        Fired("swallowed " + line);
                        transfer.FinalReplySent.TrySetResult();
                        return line;
                    case FaultKind.Late226:
                        Fired($"holding {line} for {fault.Delay?.TotalSeconds} s");
                        await Task.Delay(fault.Delay ?? TimeSpan.FromSeconds(5), s.Ended.Token);
                        break;
                }
                await SendToClientAsync(s, line);
                transfer.FinalReplySent.TrySetResult();
                return line;
            }
            await SendToClientAsync(s, line);
            if (preliminary) transfer?.PreliminarySent.TrySetResult();
            if (last && !preliminary) return line;
        }
    }

    private static bool IsTransferCommand(string command)
    {
        string verb = command.Split(' ')[0].ToUpperInvariant();
        return verb is "RETR" or "STOR" or "APPE" or "STOU" or "LIST" or "NLST" or "MLSD";
    }

    /// <summary>Listens for the client's data connection on a port of the relay's own; returns that port.</summary>
    private int OpenDataRelay(Session s, int serverDataPort)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        // The transfer is known from its passive reply on: some servers send the 1xx before the data connection is made.
        var transfer = new Transfer { Fault = TakeFault() ?? new Fault(FaultKind.None) };
        s.Current = transfer;
        bool protect = s.ProtectData;
        var control = s.ServerControlTls;
        var tls = s.Tls;
        lock (_tasks) _tasks.Add(Task.Run(async () =>
        {
            Socket? client = null, server = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(s.Ended.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                client = Track(await listener.AcceptSocketAsync(timeout.Token));
                listener.Stop();
                server = Track(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                // A client that hung up takes its data connections with it (the server's lock on the file goes too).
                var (c, sv) = (client, server);
                using var onEnd = s.Ended.Token.Register(() => { Close(c, reset: false); Close(sv, reset: false); });
                await server.ConnectAsync(IPAddress.Loopback, serverDataPort, timeout.Token);
                Stream toClient = new NetworkStream(client, ownsSocket: false), toServer = new NetworkStream(server, ownsSocket: false);
                if (protect && tls != null)
                {
                    var serverLeg = OpenSslChannel.ConnectAsync(tls, toServer, ownsRaw: false, "localhost", isData: true, control, null, (_, _) => null, s.Ended.Token);
                    var clientLeg = new SslStream(toClient, leaveInnerStreamOpen: true);
                    await Task.WhenAll(serverLeg, clientLeg.AuthenticateAsServerAsync(_certificate));
                    toServer = await serverLeg;
                    toClient = clientLeg;
                }
                await PumpDataAsync(s, transfer, client, server, toClient, toServer);
            }
            catch (Exception e)
            {
                Note("data ended: " + e.GetType().Name + ": " + e.Message);
            }
            finally
            {
                listener.Stop();
                if (client != null) Close(client, reset: false);
                if (server != null) Close(server, reset: false);
            }
        }));
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task PumpDataAsync(Session s, Transfer transfer, Socket clientSocket, Socket serverSocket, Stream toClient, Stream toServer)
    {
        var up = PumpOneWayAsync(s, transfer, toClient, toServer, clientSocket, serverSocket, "upload");
        var down = PumpOneWayAsync(s, transfer, toServer, toClient, serverSocket, clientSocket, "download");
        await Task.WhenAll(up, down);
    }

    /// <summary>Copies one direction; applies the transfer's fault when this direction's byte count reaches it.</summary>
    private async Task PumpOneWayAsync(Session s, Transfer transfer, Stream from, Stream to, Socket fromSocket, Socket toSocket, string direction)
    {
        var buffer = new byte[16 * 1024];
        long relayed = 0;
        bool ended = false;
        try
        {
            while (true)
            {
                int n;
                try { n = await from.ReadAsync(buffer, s.Ended.Token); }
                catch (Exception e) when (e is IOException or FtpException or SocketException)
                {
                    // The source ended abruptly (no close_notify, reset): the sink gets the same, no clean end.
                    Note($"data {direction} source broke after {relayed}: {e.Message}");
                    Close(toSocket, reset: false);
                    return;
                }
                if (n == 0) break;
                int offset = 0;
                var fault = transfer.Fault ?? new Fault(FaultKind.None);
                bool crossing = fault.Kind != FaultKind.None && relayed <= fault.AtByte && relayed + n > fault.AtByte;
                if (crossing)
                {
                    int before = (int)(fault.AtByte - relayed);
                    if (before > 0) { await to.WriteAsync(buffer.AsMemory(0, before), s.Ended.Token); await to.FlushAsync(); }
                    relayed += before;
                    Interlocked.Add(ref _dataBytes, before);
                    offset = before;
                    switch (fault.Kind)
                    {
                        case FaultKind.CutData:
                            Fired($"cut {direction} at {relayed} (FIN, no close_notify)");
                            Close(toSocket, reset: false); Close(fromSocket, reset: false);
                            return;
                        case FaultKind.CutDataCleanly:
                            Fired($"cut {direction} cleanly at {relayed}");
                            await CloseCleanlyAsync(to, toSocket);
                            Close(fromSocket, reset: false);
                            ended = true;
                            return;
                        case FaultKind.ResetData:
                            Fired($"reset {direction} at {relayed}");
                            Close(toSocket, reset: true); Close(fromSocket, reset: true);
                            return;
                        case FaultKind.StallData:
                            Fired($"stall {direction} at {relayed} for {(fault.Delay is { } d ? d.TotalSeconds + " s" : "ever")}");
                            if (fault.Delay is { } delay) await Task.Delay(delay, s.Ended.Token);
                            else { await Task.Delay(Timeout.Infinite, s.Ended.Token); return; }
                            break;
                        case FaultKind.DropControl:
                        case FaultKind.ResetControl:
                            Fired($"{(fault.Kind == FaultKind.DropControl ? "drop" : "reset")} control at data byte {relayed}");
                            Close(s.ClientSocket, reset: fault.Kind == FaultKind.ResetControl);
                            Close(s.ServerSocket, reset: fault.Kind == FaultKind.ResetControl);
                            break;
                        case FaultKind.Early226:
                            // After the 150: "early" is 226 before the data's end, not 226 before 150 (Reorder150And226).
                            await transfer.PreliminarySent.Task.WaitAsync(TimeSpan.FromSeconds(30), s.Ended.Token);
                            Fired($"226 sent at {direction} byte {relayed}, the rest of the data 300 ms later");
                            transfer.FinalFabricated = true;
                            await SendToClientAsync(s, "226 Transfer complete.");
                            await Task.Delay(300, s.Ended.Token);
                            break;
                    }
                }
                await to.WriteAsync(buffer.AsMemory(offset, n - offset), s.Ended.Token);
                relayed += n - offset;
                Interlocked.Add(ref _dataBytes, n - offset);
            }
            ended = true;
            await CloseCleanlyAsync(to, toSocket);
        }
        catch (Exception e) when (!ended && e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or FtpException)
        {
            Note($"data {direction} sink broke after {relayed}: {e.Message}");
            Close(toSocket, reset: false);
        }
    }

    /// <summary>The end a server makes when a transfer is complete: close_notify under TLS, then FIN.</summary>
    private static async Task CloseCleanlyAsync(Stream to, Socket toSocket)
    {
        try
        {
            if (to is SslStream ssl) await ssl.ShutdownAsync();
            else if (to is OpenSslChannel channel) await channel.SendCloseNotifyAsync(CancellationToken.None);
            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>Ends a socket: FIN, or RST when <paramref name="reset"/> (SO_LINGER 0).</summary>
    private static void Close(Socket socket, bool reset)
    {
        try
        {
            if (reset) socket.LingerState = new LingerOption(true, 0);
            else socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        try { socket.Close(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Reads one CRLF line a byte at a time, so nothing past it is buffered when the stream turns to TLS.</summary>
    private static async Task<string?> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1)
        {
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            if (line.Length > 8192) throw new IOException("control line too long");
            line.Append((char)one[0]);
        }
        return line.Length > 0 ? line.ToString() : null;
    }

    private static async Task WriteLineAsync(Stream stream, string line)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(line + "\r\n"));
        await stream.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets) foreach (var socket in _sockets) Close(socket, reset: false);
        Task[] all;
        lock (_tasks) all = _tasks.Append(_accepting).ToArray();
        try { await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* the test's assertions are what matter */ }
        _stop.Dispose();
    }
}
