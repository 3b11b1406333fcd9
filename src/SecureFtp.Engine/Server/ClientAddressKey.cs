using System.Net;
using System.Net.Sockets;

namespace SecureFtp.Server
{
    /// <summary>The unit the server counts a client by: an IPv4 address, or the /64 an IPv6 address belongs to (one
    /// host usually holds a whole /64, so counting single IPv6 addresses would count nothing).</summary>
    internal static class ClientAddressKey
    {
        public static string Of(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
            var bytes = address.GetAddressBytes();
            for (int i = 8; i < 16; i++) bytes[i] = 0;
            return new IPAddress(bytes).ToString() + "/64";
        }
    }
}
