using System.Diagnostics;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>ftpd-ssl and inetutils-ftpd are inetd-style servers: one process per connection, with the
/// accepted socket as stdin/stdout. systemd-socket-activate plays inetd for them on a port of our choice.</summary>
internal static class InetdStyleServer
{
    public static ProcessStartInfo Start(int port, string server, IEnumerable<string> serverArguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Peer.Require("systemd-socket-activate"));
        start.ArgumentList.Add("--listen");
        start.ArgumentList.Add($"127.0.0.1:{port}");
        start.ArgumentList.Add("--inetd");
        start.ArgumentList.Add("--accept");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.ArgumentList.Add($"--setenv={name}={value}");
        start.ArgumentList.Add(server);
        foreach (var argument in serverArguments)
            start.ArgumentList.Add(argument);
        return start;
    }
}
