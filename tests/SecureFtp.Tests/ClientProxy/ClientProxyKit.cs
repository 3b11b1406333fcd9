using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.ClientProxy;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.ClientProxy;

/// <summary>A <see cref="SecureFtpClientProxy"/> started for one test on 127.0.0.1 and a free port, its log kept.</summary>
public sealed class RunningProxy : IAsyncDisposable
{
    private readonly ConcurrentQueue<ClientProxyLogEntry> _log = new();

    private RunningProxy(SecureFtpClientProxy proxy) { Proxy = proxy; }

    public SecureFtpClientProxy Proxy { get; }
    public int Port => Proxy.Port;
    public string LogText => string.Join("\n", _log.Select(e => e.ToString()));

    /// <param name="upstream">"host:port", or null to route by USER name@host:port.</param>
    public static async Task<RunningProxy> StartAsync(string? upstream, FtpClientOptions client, Action<ClientProxyOptions>? configure = null)
    {
        var options = new ClientProxyOptions { Upstream = upstream, Client = client };
        configure?.Invoke(options);
        var proxy = new SecureFtpClientProxy(options);
        var running = new RunningProxy(proxy);
        options.Log = running._log.Enqueue;
        await proxy.StartAsync();
        return running;
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.StopAsync();
        Proxy.Dispose();
    }
}

/// <summary>The unmodified legacy clients, in cleartext to the proxy: curl (plain ftp://), lftp with
/// ftp:ssl-allow off, tnftp. Each is told nothing about security.</summary>
public static class LegacyThroughProxy
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static string Url(int port, string user, string password, string path)
        => $"ftp://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{port}/{path}";

    private static List<string> CurlBase(bool active)
    {
        var arguments = new List<string> { "--silent", "--show-error", "--fail", "--max-time", "90" };
        if (active) arguments.AddRange(new[] { "--ftp-port", "127.0.0.1" });
        if (Environment.GetEnvironmentVariable("SECUREFTP_CLIENT_DEBUG") == "1") arguments.Add("-v");
        return arguments;
    }

    public static Task<ProcessResult> CurlUploadAsync(int port, string user, string password, string localFile, string remotePath, bool active = false)
    {
        var arguments = CurlBase(active);
        arguments.AddRange(new[] { "--upload-file", localFile, Url(port, user, password, remotePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    public static Task<ProcessResult> CurlDownloadAsync(int port, string user, string password, string remotePath, string localFile, bool active = false, params string[] extra)
    {
        var arguments = CurlBase(active);
        arguments.AddRange(extra);
        arguments.AddRange(new[] { "--output", localFile, Url(port, user, password, remotePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    public static Task<ProcessResult> CurlListAsync(int port, string user, string password, string directory = "", bool active = false)
    {
        var arguments = CurlBase(active);
        arguments.Add(Url(port, user, password, directory.Length == 0 ? "" : directory.TrimEnd('/') + "/"));
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    /// <summary>lftp, cleartext only (ftp:ssl-allow off), running <paramref name="commands"/> (';'-separated).</summary>
    public static Task<ProcessResult> LftpAsync(int port, string user, string password, string commands, bool active = false)
    {
        var settings = new List<string>
        {
            "set cmd:fail-exit true", "set net:max-retries 1", "set net:timeout 30", "set ftp:ssl-allow off",
            $"set ftp:passive-mode {(active ? "false" : "true")}",
        };
        if (active) settings.Add("set ftp:port-ipv4 127.0.0.1");
        if (Environment.GetEnvironmentVariable("SECUREFTP_CLIENT_DEBUG") == "1") settings.Add("debug 9");
        string script = string.Join("; ", settings) + $"; open -u \"{user}\",\"{password}\" ftp://127.0.0.1:{port}; {commands}; bye";
        return ExternalProcess.RunAsync(Peer.Require("lftp"), new[] { "-c", script }, Limit);
    }

    /// <summary>tnftp driven as a user would, commands on standard input (one per line).</summary>
    public static Task<ProcessResult> TnftpAsync(int port, string user, string password, IEnumerable<string> commands, bool active = false)
        => BsdFtpAsync("/usr/bin/tnftp", "tnftp", new[] { "-n", "-v" }, active ? "passive off" : "passive on", port, user, password, commands);

    /// <summary>GNU inetutils' ftp (Debian inetutils-ftp), passive with -p, active with -A.</summary>
    public static Task<ProcessResult> InetutilsFtpAsync(int port, string user, string password, IEnumerable<string> commands, bool active = false)
        => BsdFtpAsync("/usr/bin/inetutils-ftp", "inetutils-ftp", new[] { "-n", "-v", active ? "-A" : "-p" }, null, port, user, password, commands);

    private static Task<ProcessResult> BsdFtpAsync(string executable, string package, string[] options, string? modeCommand, int port, string user, string password, IEnumerable<string> commands)
    {
        if (!File.Exists(executable)) Peer.Unavailable($"{package} is not installed; run tests/peers/install.sh as root.");
        var script = new StringBuilder();
        script.Append(System.Globalization.CultureInfo.InvariantCulture, $"user {user} {password}\n").Append("binary\n");
        if (modeCommand != null) script.Append(modeCommand).Append('\n');
        foreach (var c in commands) script.Append(c).Append('\n');
        script.Append("quit\n");
        return ExternalProcess.RunAsync(executable, options.Concat(new[] { "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }), Limit, script.ToString());
    }

    public static string Sha256Of(string path) => FtpServerFixture.Sha256Of(path);

    public static string WriteRandomFile(string directory, string name, int length)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(length));
        return path;
    }
}

/// <summary>A legacy client written out by hand, so a test sees every reply line the proxy sends (what curl and lftp
/// hide behind an exit code).</summary>
public sealed class RawLegacyClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly Stream _stream;
    public List<string> Transcript { get; } = new();

    private RawLegacyClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public static async Task<RawLegacyClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return new RawLegacyClient(tcp);
    }

    /// <summary>One whole reply (all lines of a multi-line reply); its code and text.</summary>
    public async Task<(int Code, string Text)> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var text = new StringBuilder();
        string first = await _reader.ReadLineAsync(cts.Token) ?? throw new IOException("closed");
        Transcript.Add(first);
        text.Append(first);
        if (first.Length > 3 && first[3] == '-')
        {
            string end = string.Concat(first.AsSpan(0, 3), " ");
            while (true)
            {
                string line = await _reader.ReadLineAsync(cts.Token) ?? throw new IOException("closed");
                Transcript.Add(line);
                text.Append('\n').Append(line);
                if (line.StartsWith(end, StringComparison.Ordinal)) break;
            }
        }
        return (int.Parse(first.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture), text.ToString());
    }

    public async Task<(int Code, string Text)> SendAsync(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\r\n");
        await _stream.WriteAsync(bytes);
        return await ReadReplyAsync();
    }

    public async Task WriteAsync(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\r\n");
        await _stream.WriteAsync(bytes);
    }

    public void Dispose() => _tcp.Dispose();
}
