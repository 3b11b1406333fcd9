using Xunit;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>Finds the real peers (servers, clients, tools) that tests/peers/install.sh puts on the machine.
/// A test that needs a missing peer skips with a message on a developer machine and FAILS under CI=true,
/// so a broken CI set-up can never pass by skipping everything.</summary>
public static class Peer
{
    /// <summary>Where install.sh unpacks the servers that conflict with vsftpd as packages.</summary>
    public static string UnpackedRoot => Environment.GetEnvironmentVariable("SECUREFTP_PEER_ROOT") ?? "/opt/secureftp-peers";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Known peers by name, each with the path of its executable.</summary>
    private static readonly Dictionary<string, Func<string>> Executables = new(StringComparer.OrdinalIgnoreCase)
    {
        ["vsftpd"] = () => "/usr/sbin/vsftpd",
        ["proftpd"] = () => Path.Combine(UnpackedRoot, "proftpd/usr/sbin/proftpd"),
        ["pure-ftpd"] = () => Path.Combine(UnpackedRoot, "pure-ftpd/usr/sbin/pure-ftpd"),
        ["pure-pw"] = () => Path.Combine(UnpackedRoot, "pure-ftpd/usr/bin/pure-pw"),
        ["ftpd-ssl"] = () => Path.Combine(UnpackedRoot, "ftpd-ssl/usr/sbin/in.ftpd"),
        ["inetutils-ftpd"] = () => Path.Combine(UnpackedRoot, "inetutils-ftpd/usr/sbin/ftpd"),
        // Plays inetd for the inetd-style servers (ftpd-ssl, inetutils-ftpd).
        ["systemd-socket-activate"] = () => "/usr/bin/systemd-socket-activate",
        ["curl"] = () => "/usr/bin/curl",
        ["lftp"] = () => "/usr/bin/lftp",
        ["tcpdump"] = () => "/usr/bin/tcpdump",
    };

    /// <summary>The executable of <paramref name="name"/>; skips the test (fails it under CI=true) when it is missing.</summary>
    public static string Require(string name)
    {
        if (!Executables.TryGetValue(name, out var locate))
            throw new ArgumentException($"Unknown peer '{name}'. Known: {string.Join(", ", Executables.Keys)}", nameof(name));
        string path = locate();
        if (!File.Exists(path))
            Unavailable($"{name} is not installed (looked for {path}); run tests/peers/install.sh as root.");
        return path;
    }

    /// <summary>Servers switch to the test login after authentication, so they must start as root, and that
    /// login must exist (install.sh makes it).</summary>
    public static void RequireServerPrivileges()
    {
        if (!Environment.IsPrivilegedProcess)
            Unavailable("the FTP servers must be started as root (they switch to the test login after authentication).");
        if (PeerUser.TryGetIds() is null)
            Unavailable($"the test login '{PeerUser.Name}' does not exist; run tests/peers/install.sh as root.");
    }

    /// <summary>Skips with <paramref name="reason"/>, or fails under CI=true.</summary>
    public static void Unavailable(string reason)
    {
        if (IsCi)
            throw new InvalidOperationException("Peer unavailable under CI=true (interop tests must not skip in CI): " + reason);
        Skip.If(true, reason);
    }
}
