using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureFtp;
using SecureFtp.ClientProxy;
using SecureFtp.Server;

// What a user of Start-SecureFtpClientProxy pays: per command, and per byte. Both sides run on loopback against one
// embedded TLS server started here, so the only difference between the rows is the proxy.
int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
string OutFolder()
{
    int i = Array.IndexOf(args, "--out");
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : Path.Combine("bench", "out");
}
int noops = Option("noops", 200), sizeMb = Option("size-mb", 256), runs = Option("runs", 3);

const string User = "bench", Password = "bench-proxy-pw";
string root = Directory.CreateTempSubdirectory("secureftp-bench-proxy-").FullName;
try
{
    using var certificate = SecureFtpServer.CreateSelfSignedCertificate();
    string pin = certificate.GetCertHashString(HashAlgorithmName.SHA256);
    using (var file = File.Create(Path.Combine(root, "big.bin")))
    {
        var block = RandomNumberGenerator.GetBytes(1 << 20);
        for (int i = 0; i < sizeMb; i++) file.Write(block);
    }
    var server = new SecureFtpServer(new SecureFtpServerOptions { Root = root, Certificate = certificate, Users = { new NetworkCredential(User, Password) } });
    await server.StartAsync();
    FtpClientOptions Upstream() => new()
    {
        Host = "127.0.0.1", Port = server.Port, Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls }, PinnedFingerprints = new List<string> { pin },
    };
    var proxy = new SecureFtpClientProxy(new ClientProxyOptions { Upstream = $"127.0.0.1:{server.Port}", Client = Upstream() });
    await proxy.StartAsync();

    var directLatency = new List<double>();
    var proxyLatency = new List<double>();
    var directSpeed = new List<double>();
    var proxySpeed = new List<double>();
    for (int run = 0; run < runs; run++)
    {
        // Direct: the engine's own session, as Connect-SecureFtp opens it.
        var options = Upstream();
        options.Credential = new NetworkCredential(User, Password);
        using (var client = await FtpClient.ConnectAsync(options))
        {
            directLatency.Add(await MedianAsync(noops, () => client.NoOpAsync()));
            var clock = Stopwatch.StartNew();
            long bytes = await client.DownloadAsync("big.bin", Stream.Null);
            directSpeed.Add(bytes / clock.Elapsed.TotalSeconds / (1 << 20));
            await client.DisconnectAsync();
        }
        // Through the proxy: a legacy client in cleartext on loopback, as curl or lftp would be.
        using (var legacy = await Legacy.LoginAsync(proxy.Port, User, Password))
        {
            proxyLatency.Add(await MedianAsync(noops, () => legacy.CommandAsync("NOOP", 200)));
            await legacy.CommandAsync("TYPE I", 200);
            var clock = Stopwatch.StartNew();
            long bytes = await legacy.RetrieveAsync("big.bin");
            proxySpeed.Add(bytes / clock.Elapsed.TotalSeconds / (1 << 20));
        }
    }
    await proxy.StopAsync();
    proxy.Dispose();
    await server.StopAsync();
    server.Dispose();

    double dl = directLatency.Min(), pl = proxyLatency.Min(), ds = directSpeed.Max(), ps = proxySpeed.Max();
    var table = new StringBuilder();
    table.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"# Client proxy: added latency and throughput ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, loopback, TLS PROT P)");
    table.AppendLine();
    table.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"Best of {runs} runs; latency is the median of {noops} NOOPs per run, throughput a {sizeMb} MiB download.");
    table.AppendLine();
    table.AppendLine("| path | NOOP median (ms) | download (MiB/s) |");
    table.AppendLine("| --- | ---: | ---: |");
    table.AppendLine(FormattableString.Invariant($"| engine direct (Connect-SecureFtp) | {dl:0.000} | {ds:0} |"));
    table.AppendLine(FormattableString.Invariant($"| legacy client through the client proxy | {pl:0.000} | {ps:0} |"));
    table.AppendLine(FormattableString.Invariant($"| proxy's cost | +{pl - dl:0.000} ms per command (goal < 0.2) | {ps / ds:0.00}x of direct (goal >= 0.8) |"));
    Console.Write(table);
    Directory.CreateDirectory(OutFolder());
    File.WriteAllText(Path.Combine(OutFolder(), "client-proxy.md"), table.ToString());
    return 0;
}
finally
{
    Directory.Delete(root, recursive: true);
}

static async Task<double> MedianAsync(int count, Func<Task> command)
{
    for (int i = 0; i < 20; i++) await command();
    var times = new double[count];
    for (int i = 0; i < count; i++)
    {
        long start = Stopwatch.GetTimestamp();
        await command();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(times);
    return times[count / 2];
}

/// <summary>A legacy FTP client reduced to what the bench needs: login, one-line commands, a passive download.</summary>
sealed class Legacy : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly Stream _stream;

    private Legacy(TcpClient tcp)
    {
        _tcp = tcp;
        _tcp.NoDelay = true;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public static async Task<Legacy> LoginAsync(int port, string user, string password)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var legacy = new Legacy(tcp);
        await legacy.ExpectAsync(220);
        await legacy.CommandAsync("USER " + user, 331);
        await legacy.CommandAsync("PASS " + password, 230);
        return legacy;
    }

    public async Task<string> CommandAsync(string line, int expected)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        return await ExpectAsync(expected);
    }

    private async Task<string> ExpectAsync(int expected)
    {
        while (true)
        {
            string reply = await _reader.ReadLineAsync() ?? throw new IOException("closed");
            if (reply.Length >= 4 && reply[3] == '-') continue;
            if (!reply.StartsWith(expected.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)) throw new IOException($"expected {expected}: {reply}");
            return reply;
        }
    }

    public async Task<long> RetrieveAsync(string path)
    {
        string epsv = await CommandAsync("EPSV", 229);
        int port = int.Parse(epsv.Split('|')[3], CultureInfo.InvariantCulture);
        using var data = new TcpClient();
        await data.ConnectAsync(IPAddress.Loopback, port);
        await CommandAsync("RETR " + path, 150);
        var buffer = new byte[1 << 20];
        long total = 0;
        var stream = data.GetStream();
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) total += n;
        await ExpectAsync(226);
        return total;
    }

    public void Dispose() => _tcp.Dispose();
}
