using System.Runtime.InteropServices;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>The local login every test server authenticates (made by tests/peers/install.sh with chpasswd).
/// The password is distinctive so the wire check can search a capture for it.</summary>
public static class PeerUser
{
    public const string Name = "ftptest";
    public const string Password = "Wire-Secret-5f3a9c";

    /// <summary>The login's uid and gid from /etc/passwd; null when it does not exist.</summary>
    public static (int Uid, int Gid)? TryGetIds()
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == Name)
                return (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
        }
        return null;
    }

    /// <summary>Gives <paramref name="path"/> to the test login, so the server (running as that login after
    /// authentication) can read it and write into it.</summary>
    public static void GiveOwnership(string path)
    {
        var ids = TryGetIds() ?? throw new InvalidOperationException($"The test login '{Name}' does not exist.");
        if (chown(System.Text.Encoding.UTF8.GetBytes(path + "\0"), ids.Uid, ids.Gid) != 0)
            throw new IOException($"chown {Name} {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    // The path goes as the NUL-terminated UTF-8 bytes libc reads, spelled out rather than left to string marshalling.
    [DllImport("libc", SetLastError = true)]
    private static extern int chown(byte[] path, int owner, int group);
}
