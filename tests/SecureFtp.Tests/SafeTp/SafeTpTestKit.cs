using System.Net;
using SecureFtp.Security;
using SecureFtp.Security.SafeTp;
using SecureFtp.Trust;

namespace SecureFtp.Tests.SafeTp;

/// <summary>A trust store in memory: the real one belongs to Trust/, these tests only need the interface.</summary>
internal sealed class MemoryTrustStore : ITrustStore
{
    private readonly List<TrustedKey> _keys = new();
    public string Location => "memory";
    public IReadOnlyList<TrustedKey> GetAll() => _keys.ToList();
    public IReadOnlyList<TrustedKey> Find(string host, int port, string keyType)
        => _keys.Where(k => string.Equals(k.Host, host, StringComparison.OrdinalIgnoreCase) && (k.Port == 0 || k.Port == port) && k.KeyType == keyType).ToList();
    public bool HasAnyKeyFor(string host, int port) => _keys.Any(k => string.Equals(k.Host, host, StringComparison.OrdinalIgnoreCase) && (k.Port == 0 || k.Port == port));
    public void Add(TrustedKey key) => _keys.Add(key);
    public int Remove(string host, int port, string? keyType, string? fingerprint) => _keys.RemoveAll(k => k.Host == host);
}

/// <summary>Keys made once per test run (DSA parameter generation takes a moment) and in-process exchanges.</summary>
internal static class SafeTpTestKit
{
    public static readonly IPAddress ServerAddress = IPAddress.Parse("192.0.2.10");
    /// <summary>A key of the default size (DSA 2048), as New-SecureFtpKey makes them now.</summary>
    private static readonly Lazy<SafeTpServerKey> LazyServerKey = new(() => SafeTpKeys.GenerateServerKey("Example Corp FTP"));
    /// <summary>A 1024-bit key, the paper's size, as servers set up before still have: it must keep working.</summary>
    private static readonly Lazy<SafeTpServerKey> LazyOtherServerKey = new(() => SafeTpKeys.GenerateServerKey("Mallory's Server", 1024));
    private static readonly Lazy<SafeTpClientKey> LazyClientKey = new(() => SafeTpKeys.GenerateClientKey(1024));

    public static SafeTpServerKey ServerKey => LazyServerKey.Value;
    public static SafeTpServerKey OtherServerKey => LazyOtherServerKey.Value;
    public static SafeTpClientKey ClientKey => LazyClientKey.Value;

    public static FtpClientOptions AcceptingOptions() => new FtpClientOptions { Host = "ftp.example.com", AcceptNewKey = true };

    public static IRfc2228Security Client(ITrustStore? store = null, FtpClientOptions? options = null, SafeTpClientKey? key = null, string host = "ftp.example.com", IPAddress? peer = null)
        => SafeTpMechanism.CreateClientSecurity(key ?? ClientKey, host, 21, peer ?? ServerAddress, store ?? new MemoryTrustStore(), options ?? AcceptingOptions());

    public static IRfc2228Security Server(SafeTpServerKey? key = null, SafeTpServerPolicy? policy = null, IPAddress? address = null)
        => SafeTpMechanism.TryCreateServer("X-SafeTP1", key ?? ServerKey, address ?? ServerAddress, policy ?? new SafeTpServerPolicy { MinimumElGamalBits = 768 })!;

    /// <summary>Runs the ADAT exchange as the framework would (334 carries M1, then ADAT/335/ADAT/235) and returns
    /// the messages in order, so attacks can replay or alter them.</summary>
    public static List<byte[]> Exchange(IControlSecurity client, IControlSecurity server, Func<int, byte[], byte[]>? tamper = null)
    {
        var messages = new List<byte[]>();
        IControlSecurity from = server, to = client;
        while (from.HasOutgoingAdat)
        {
            var message = from.GetNextOutgoingAdat();
            if (tamper != null) message = tamper(messages.Count, message);
            messages.Add(message);
            to.IncomingAdat(message);
            (from, to) = (to, from);
        }
        return messages;
    }
}
