using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using SecureFtp.Security;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>What a test server offers, so a test can ask for what applies to it.</summary>
/// <param name="Mechanism">How a client secures the session with this server (None for a plain server).</param>
/// <param name="AllowsClearData">PROT C is accepted after the security exchange.</param>
/// <param name="AllowsCcc">CCC (clear command channel) is accepted.</param>
/// <param name="RequiresTlsSessionReuse">Data connections must resume the control connection's TLS session.</param>
/// <param name="MaxTlsProtocol">The highest TLS version a client may offer this server, when it cannot take the newest.</param>
public sealed record PeerCapabilities(FtpMechanism Mechanism, bool AllowsClearData, bool AllowsCcc, bool RequiresTlsSessionReuse, SslProtocols? MaxTlsProtocol = null)
{
    public bool UsesTls => Mechanism is FtpMechanism.Tls or FtpMechanism.ImplicitTls or FtpMechanism.Ssl;
}

/// <summary>A file placed in the served folder, with the facts a test compares against.</summary>
public sealed record ServedFile(string Name, string LocalPath, string RemotePath, long Length, string Sha256);

/// <summary>A real FTP server on 127.0.0.1 and a free port, with a config written into its own temp folder,
/// this run's certificate and a served root folder owned by the test login. Use it as an xunit class or
/// collection fixture so the server starts once per class; each test begins with <see cref="Require"/>,
/// which starts the server on first use and skips (or, under CI=true, fails) when the peer is missing.</summary>
public abstract class FtpServerFixture : IDisposable
{
    /// <summary>The host name tests use to reach the server by name; the certificate names it.</summary>
    public const string HostName = "localhost";

    private readonly object _gate = new();
    private readonly StringBuilder _output = new();
    private Process? _process;
    private Exception? _startFailure;
    private bool _disposed;

    protected FtpServerFixture(string peerName)
    {
        PeerName = peerName;
        WorkDirectory = Path.Combine(Path.GetTempPath(), $"secureftp-{peerName}-{Guid.NewGuid():N}");
        RootDirectory = Path.Combine(WorkDirectory, "root");
    }

    /// <summary>The peer's name, as <see cref="Peer.Require"/> knows it ("vsftpd", "proftpd"...).</summary>
    public string PeerName { get; }

    /// <summary>The IP literal the server listens on.</summary>
    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>The ports the server offers for passive data connections, for servers configured with a
    /// range (vsftpd, proftpd, pure-ftpd); null when the server picks any port. A packet capture filters on them.</summary>
    public (int First, int Last)? PassivePortRange { get; private set; }

    /// <summary>Whether this server's config can name its passive ports (see <see cref="PassivePortRange"/>).</summary>
    protected virtual bool HasPassivePortRange => false;
    public string User => PeerUser.Name;
    public string Password => PeerUser.Password;

    /// <summary>The local folder the server serves.</summary>
    public string RootDirectory { get; }

    /// <summary>The remote path of <see cref="RootDirectory"/> as the client sees it after login: "/" for
    /// servers that chroot the login, the local path itself for those that do not.</summary>
    public virtual string RemoteRoot => "/";

    public abstract PeerCapabilities Capabilities { get; }

    public TestCertificates Certificates => TestCertificates.Current;

    /// <summary>SHA-256 of the server certificate (hex, no separators); null for a plain server.</summary>
    public string? CertificateThumbprint => Capabilities.UsesTls ? Certificates.ServerSha256 : null;

    /// <summary>The folder holding the config, the certificate files and the logs.</summary>
    protected string WorkDirectory { get; }

    /// <summary>The peers this server needs besides itself (the inetd stand-in, a password tool...).</summary>
    protected virtual IEnumerable<string> HelperPeers => Array.Empty<string>();

    /// <summary>Writes the config for <paramref name="port"/> into <see cref="WorkDirectory"/> and returns how to start the server.</summary>
    protected abstract ProcessStartInfo PrepareServer(int port);

    /// <summary>Starts the server on first use. Skips the test (fails it under CI=true) when the peer is missing;
    /// fails it, with the server's output, when the server does not come up.</summary>
    public FtpServerFixture Require()
    {
        if (!OperatingSystem.IsLinux())
            Peer.Unavailable("the test servers are Debian's and run on Linux only.");
        Peer.RequireServerPrivileges();
        Peer.Require(PeerName);
        foreach (var helper in HelperPeers)
            Peer.Require(helper);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_startFailure != null)
                throw new InvalidOperationException($"{PeerName} did not start earlier in this class: {_startFailure.Message}", _startFailure);
            if (_process == null)
            {
                try { Start(); }
                catch (Exception e) { _startFailure = e; throw; }
            }
        }
        return this;
    }

    /// <summary>The remote path of a name relative to the served root.</summary>
    public string RemotePath(string relativePath) => RemoteRoot.TrimEnd('/') + "/" + relativePath.TrimStart('/');

    /// <summary>The local path of a name relative to the served root.</summary>
    public string LocalPath(string relativePath) => Path.Combine(RootDirectory, relativePath.TrimStart('/'));

    /// <summary>Puts a file of <paramref name="length"/> pseudo-random bytes (fixed by its name, so reruns
    /// see the same content) into the served folder, owned by the test login.</summary>
    public ServedFile CreateFile(string relativePath, long length)
    {
        string local = LocalPath(relativePath);
        CreateServedDirectory(Path.GetDirectoryName(local)!);
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        using (var file = new FileStream(local, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var random = new Random(StringComparer.Ordinal.GetHashCode(relativePath) ^ (int)length);
            var buffer = new byte[1 << 20];
            for (long left = length; left > 0;)
            {
                int n = (int)Math.Min(buffer.Length, left);
                random.NextBytes(buffer.AsSpan(0, n));
                file.Write(buffer, 0, n);
                sha.AppendData(buffer, 0, n);
                left -= n;
            }
            file.Flush();
            PeerUser.GiveOwnership(local);
            return new ServedFile(Path.GetFileName(local), local, RemotePath(relativePath), length, Convert.ToHexString(sha.GetHashAndReset()));
        }
    }

    /// <summary>Creates a folder under the served root, each new level owned by the test login so the
    /// server can write into it (uploads, MKD).</summary>
    private void CreateServedDirectory(string path)
    {
        if (Directory.Exists(path))
            return;
        CreateServedDirectory(Path.GetDirectoryName(path)!);
        Directory.CreateDirectory(path);
        PeerUser.GiveOwnership(path);
    }

    /// <summary>SHA-256 (upper-case hex) of a local file.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>Options that reach this server by <paramref name="host"/> (<see cref="HostName"/> or
    /// <see cref="Host"/>) with its mechanism, the test login and the certificate pinned.</summary>
    public FtpClientOptions ClientOptions(string host)
    {
        var options = new FtpClientOptions
        {
            Host = host,
            Port = Port,
            Credential = new NetworkCredential(User, Password),
            Mechanisms = new List<FtpMechanism> { Capabilities.Mechanism },
            DataProtection = Capabilities.UsesTls ? DataProtectionLevel.Private : DataProtectionLevel.Clear,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ReadTimeout = TimeSpan.FromSeconds(30),
            DataTimeout = TimeSpan.FromSeconds(60),
            TlsProtocols = Capabilities.MaxTlsProtocol,
        };
        if (CertificateThumbprint != null)
            options.PinnedFingerprints.Add(CertificateThumbprint);
        return options;
    }

    /// <summary>What the server printed and logged so far: attach it to a failure message.</summary>
    public string ReadServerLog()
    {
        var text = new StringBuilder();
        lock (_output) text.Append(_output);
        if (Directory.Exists(WorkDirectory))
            foreach (var log in Directory.GetFiles(WorkDirectory, "*.log"))
            {
                try { text.Append(System.Globalization.CultureInfo.InvariantCulture, $"--- {Path.GetFileName(log)}\n").Append(File.ReadAllText(log)); }
                catch (IOException) { /* still being written: skip this one */ }
            }
        return text.ToString();
    }

    /// <summary>Writes a file into the work folder and returns its path.</summary>
    protected string WriteWorkFile(string name, string content)
    {
        string path = Path.Combine(WorkDirectory, name);
        File.WriteAllText(path, content);
        return path;
    }

    protected string ServerCertificateFile => Path.Combine(WorkDirectory, "server-cert.pem");
    protected string ServerKeyFile => Path.Combine(WorkDirectory, "server-key.pem");
    /// <summary>Certificate and key in one file, for servers that want them together.</summary>
    protected string ServerCombinedPemFile => Path.Combine(WorkDirectory, "server.pem");

    private void Start()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The test servers are Debian's and run on Linux only.");
        // Another process may take the free port between our probe and the server's bind: try a few ports.
        const int attempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort();
            PassivePortRange = HasPassivePortRange ? FreePortRange(16) : null;
            PrepareWorkDirectory();
            var process = Launch(PrepareServer(port));
            if (WaitUntilListening(process, port, TimeSpan.FromSeconds(15)))
            {
                _process = process;
                Port = port;
                return;
            }
            string output = ReadServerLog();
            StopProcess(process);
            if (attempt == attempts)
                throw new InvalidOperationException($"{PeerName} did not start listening on 127.0.0.1 ({attempts} attempts). Output:\n{output}");
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private void PrepareWorkDirectory()
    {
        Directory.CreateDirectory(WorkDirectory);
        // The server reads its config as root, but the login it switches to must reach the served root.
        File.SetUnixFileMode(WorkDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(RootDirectory);
        PeerUser.GiveOwnership(RootDirectory);
        File.WriteAllText(ServerCertificateFile, Certificates.ServerCertificatePem);
        File.WriteAllText(ServerKeyFile, Certificates.ServerKeyPem);
        File.WriteAllText(ServerCombinedPemFile, Certificates.ServerKeyPem + Certificates.ServerCertificatePem);
        File.SetUnixFileMode(ServerKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(ServerCombinedPemFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    // Runs the server in a session of its own under a watchdog shell. The watchdog holds the read end of
    // a pipe whose write end only this test process holds (the child's stdin): when this process goes
    // away, even killed, the watchdog removes the work folder and kills the whole process group (the
    // server and the per-connection processes it forked), so no server outlives its test run.
    // (sh gives a background list /dev/null as stdin unless redirected explicitly, hence fd 3.)
    private const string Watchdog = """
        exec 3<&0
        "$@" </dev/null 3<&- &
        server=$!
        ( cat <&3 >/dev/null; rm -rf -- "$SECUREFTP_FIXTURE_WORK"; kill -KILL 0 ) &
        wait "$server"
        kill -KILL 0
        """;

    private Process Launch(ProcessStartInfo server)
    {
        var start = new ProcessStartInfo("/usr/bin/setsid")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in new[] { "/bin/sh", "-c", Watchdog, "watchdog", server.FileName })
            start.ArgumentList.Add(argument);
        foreach (var argument in server.ArgumentList)
            start.ArgumentList.Add(argument);
        // Arguments (one string) is taken as space-separated words; the fixtures' paths hold no spaces.
        foreach (var argument in server.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            start.ArgumentList.Add(argument);
        start.Environment["SECUREFTP_FIXTURE_WORK"] = WorkDirectory;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static bool WaitUntilListening(Process process, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
                return false;
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        return false;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A run of <paramref name="count"/> free ports below Linux's ephemeral range (32768-60999), so
    /// client ports of unrelated connections do not land in it.</summary>
    private static (int First, int Last) FreePortRange(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int first = Random.Shared.Next(20000, 32768 - count);
            if (Enumerable.Range(first, count).All(IsFree))
                return (first, first + count - 1);
        }
        throw new InvalidOperationException($"No run of {count} free ports found between 20000 and 32767.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void StopProcess(Process process)
    {
        try
        {
            // Closing the watchdog's stdin stops the server's whole process group (see Watchdog).
            process.StandardInput.Close();
            if (!process.WaitForExit(10_000))
                process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { /* already gone */ }
        process.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_process != null)
                StopProcess(_process);
            _process = null;
        }
        try
        {
            if (Directory.Exists(WorkDirectory))
                Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException) { /* a file still held by a dying session: the temp folder is cleaned by the OS */ }
        GC.SuppressFinalize(this);
    }
}
