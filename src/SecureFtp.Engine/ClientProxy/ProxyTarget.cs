using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SecureFtp.ClientProxy
{
    /// <summary>Where a legacy session goes: "host", "host:port", "[v6]" or "[v6]:port" (the fixed upstream, or the part
    /// after the last '@' of "USER name@host[:port]").</summary>
    internal sealed class ProxyTarget
    {
        private ProxyTarget(string host, int port)
        {
            Host = host;
            Port = port;
        }

        public string Host { get; }
        public int Port { get; }

        public static ProxyTarget Parse(string text, int defaultPort)
            => TryParse(text, defaultPort) ?? throw new FtpException(FtpErrorKind.Protocol, "UpstreamInvalid",
                $"'{Sanitize(text)}' is not host[:port] (use [address]:port for IPv6).");

        public static ProxyTarget? TryParse(string text, int defaultPort)
        {
            string value = text.Trim();
            if (value.Length == 0 || value.Length > 300) return null;
            string host = value;
            int port = defaultPort;
            if (value.StartsWith("[", StringComparison.Ordinal))
            {
                int close = value.IndexOf(']');
                if (close < 0) return null;
                host = value.Substring(1, close - 1);
                string rest = value.Substring(close + 1);
                if (rest.Length > 0 && (!rest.StartsWith(":", StringComparison.Ordinal) || !TryPort(rest.Substring(1), out port))) return null;
                if (!IPAddress.TryParse(host, out _)) return null;
            }
            else
            {
                int colon = value.LastIndexOf(':');
                if (colon >= 0)
                {
                    if (value.IndexOf(':') != colon) { if (!IPAddress.TryParse(value, out _)) return null; }
                    else
                    {
                        host = value.Substring(0, colon);
                        if (!TryPort(value.Substring(colon + 1), out port)) return null;
                    }
                }
                if (!IsHostName(host) && !IPAddress.TryParse(host, out _)) return null;
            }
            return new ProxyTarget(host, port);
        }

        private static bool TryPort(string text, out int port)
            => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port > 0 && port < 65536;

        /// <summary>Letters, digits, '-', '.', '_' only: nothing a legacy client types can reach a resolver or a log as something else.</summary>
        private static bool IsHostName(string host)
        {
            if (host.Length == 0 || host.Length > 253) return false;
            foreach (char c in host)
                if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '.' or '_')) return false;
            return true;
        }

        internal static string Sanitize(string text)
        {
            var chars = text.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (char.IsControl(chars[i])) chars[i] = '?';
            var s = new string(chars);
            return s.Length > 120 ? s.Substring(0, 120) + "..." : s;
        }

        public override string ToString() => Host.IndexOf(':') >= 0 ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
    }

    /// <summary>Transparent mode on Linux: the destination a connection had before an iptables/nft REDIRECT sent it to
    /// the proxy (getsockopt SOL_IP SO_ORIGINAL_DST), which is how the SafeTP paper's interception layer (s.3.1)
    /// maps onto Linux.</summary>
    internal static class TransparentRouting
    {
        private const int SolIp = 0;
        private const int SoOriginalDst = 80;

        public static bool IsSupported =>
#if NET
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
#else
            false;
#endif

        /// <summary>The original IPv4 destination, or null when the connection was not redirected.</summary>
        public static IPEndPoint? OriginalDestination(Socket socket)
        {
#if NET
            if (!IsSupported) return null;
            var buffer = new byte[16]; // struct sockaddr_in
            try
            {
                int n = socket.GetRawSocketOption(SolIp, SoOriginalDst, buffer);
                if (n < 8) return null;
            }
            catch (SocketException) { return null; }
            int port = buffer[2] << 8 | buffer[3];
            var address = new IPAddress(new[] { buffer[4], buffer[5], buffer[6], buffer[7] });
            var local = (IPEndPoint)socket.LocalEndPoint!;
            var localV4 = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
            // Not redirected: the "original" destination is the proxy itself.
            if (address.Equals(localV4) && port == local.Port) return null;
            return new IPEndPoint(address, port);
#else
            return null;
#endif
        }
    }
}
