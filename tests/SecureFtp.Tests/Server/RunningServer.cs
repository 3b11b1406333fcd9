using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Protocol;
using SecureFtp.Server;
using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Server;

/// <summary>A <see cref="SecureFtpServer"/> started for one test on 127.0.0.1 and a free port, serving its own
/// temp folder (root mode) or fronting an ftpd (upstream mode), with every log entry kept for assertions.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    public const string UserName = "alice";
    /// <summary>Distinctive, so a test can search the log for it.</summary>
    public const string Password = "Pa55-Never-Logged-7c1e";

    private readonly ConcurrentQueue<SecureFtpServerLogEntry> _log = new();

    private RunningServer(SecureFtpServer server, string? root)
    {
        Server = server;
        RootDirectory = root;
    }

    public SecureFtpServer Server { get; }
    public string? RootDirectory { get; }
    public int Port => Server.Port;
    public IReadOnlyCollection<SecureFtpServerLogEntry> Log => _log.ToArray();
    public string LogText => string.Join("\n", _log.Select(e => e.ToString()));

    /// <summary>Root mode over a fresh temp folder; TLS with this run's test certificate unless configured otherwise.</summary>
    /// <param name="keepLog">Which log entries to keep (all when null): a flood test keeps only warnings, so the
    /// log it collects does not grow with the flood it measures.</param>
    public static async Task<RunningServer> StartRootAsync(Action<SecureFtpServerOptions>? configure = null, Predicate<SecureFtpServerLogEntry>? keepLog = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "secureftp-server-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var options = new SecureFtpServerOptions
        {
            Root = root,
            Certificate = TestCertificates.Current.Server,
            Users = { new NetworkCredential(UserName, Password) },
        };
        return await StartAsync(options, configure, root, keepLog);
    }

    /// <summary>Upstream mode (the SafeTP proxy) in front of <paramref name="upstream"/>.</summary>
    public static async Task<RunningServer> StartProxyAsync(string upstream, Action<SecureFtpServerOptions>? configure = null, Predicate<SecureFtpServerLogEntry>? keepLog = null)
    {
        var options = new SecureFtpServerOptions { Upstream = upstream, Certificate = TestCertificates.Current.Server };
        return await StartAsync(options, configure, null, keepLog);
    }

    private static async Task<RunningServer> StartAsync(SecureFtpServerOptions options, Action<SecureFtpServerOptions>? configure, string? root, Predicate<SecureFtpServerLogEntry>? keepLog)
    {
        configure?.Invoke(options);
        var server = new SecureFtpServer(options);
        var running = new RunningServer(server, root);
        options.Log = keepLog == null ? running._log.Enqueue : e => { if (keepLog(e)) running._log.Enqueue(e); };
        await server.StartAsync();
        return running;
    }

    /// <summary>Writes <paramref name="length"/> random bytes into the served folder; returns the SHA-256.</summary>
    public string CreateFile(string relativePath, int length)
    {
        var bytes = RandomNumberGenerator.GetBytes(length);
        string local = LocalPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        File.WriteAllBytes(local, bytes);
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    public string LocalPath(string relativePath) => Path.Combine(RootDirectory!, relativePath);

    /// <summary>A raw control connection for reply-code checks (the engine's own line reader, no client logic).</summary>
    public async Task<RawControl> ConnectRawAsync(int? port = null)
    {
        var control = await FtpControlConnection.OpenAsync("127.0.0.1", port ?? Port, TimeSpan.FromSeconds(15), new UTF8Encoding(false), CancellationToken.None);
        control.Timeout = TimeSpan.FromSeconds(15);
        return new RawControl(control);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        Server.Dispose();
        if (RootDirectory != null)
            try { Directory.Delete(RootDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A control connection driven line by line: what a test sends is exactly what the server sees.</summary>
public sealed class RawControl : IDisposable
{
    public RawControl(FtpControlConnection control) { Control = control; }

    public FtpControlConnection Control { get; }
    public SslStream? Tls { get; private set; }

    public Task<FtpReply> ReadAsync() => Control.ReadReplyAsync(CancellationToken.None);
    public Task<FtpReply> SendAsync(string line) => Control.ExecuteAsync(line, CancellationToken.None);

    /// <summary>Runs the client side of a TLS handshake (after 234, or first thing on the implicit port).</summary>
    public async Task StartTlsAsync()
    {
        var tls = new SslStream(Control.Transport, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        Control.ReplaceTransport(tls);
        Tls = tls;
    }

    /// <summary>Answers the server's close_notify (REIN, RFC 4217 s.13) and goes on over the bare socket.</summary>
    public async Task StopTlsAsync()
    {
        var tls = Tls!;
        await tls.ShutdownAsync();
        var scratch = new byte[256];
        while (await tls.ReadAsync(scratch) > 0) { }
        Control.ReplaceTransport(new System.Net.Sockets.NetworkStream(Control.Socket, ownsSocket: false));
        Tls = null;
    }

    /// <summary>Logs in over TLS: AUTH TLS, USER, PASS, PBSZ 0, PROT P.</summary>
    public async Task LoginOverTlsAsync(string user, string password, bool protectData = true)
    {
        Assert220(await ReadAsync());
        Expect(234, await SendAsync("AUTH TLS"));
        await StartTlsAsync();
        Expect(331, await SendAsync("USER " + user));
        Expect(230, await SendAsync("PASS " + password));
        Expect(200, await SendAsync("PBSZ 0"));
        Expect(200, await SendAsync(protectData ? "PROT P" : "PROT C"));
    }

    public static FtpReply Expect(int code, FtpReply reply)
    {
        if (reply.Code != code) throw new Xunit.Sdk.XunitException($"Expected {code}, got: {reply}");
        return reply;
    }

    public static void Assert220(FtpReply reply) => Expect(220, reply);

    public void Dispose()
    {
        Tls?.Dispose();
        Control.Dispose();
    }
}
