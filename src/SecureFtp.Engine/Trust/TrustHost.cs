using System;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureFtp.Trust
{
    /// <summary>Spelling rules for what the store keeps: one form per host, and brands safe to show.</summary>
    internal static class TrustHost
    {
        /// <summary>Lower-case name, or an address in its canonical form (IPv6 brackets removed, IPv4-mapped
        /// IPv6 as IPv4), so "127.0.0.1", "::ffff:127.0.0.1" and "[::1]" each have one spelling.</summary>
        public static string Normalize(string host)
        {
            if (string.IsNullOrWhiteSpace(host))
                throw new FtpException(FtpErrorKind.Trust, "InvalidHost", "A trust store entry needs a host name or address.");
            var text = host.Trim();
            if (text.StartsWith("[", StringComparison.Ordinal) && text.EndsWith("]", StringComparison.Ordinal))
                text = text.Substring(1, text.Length - 2);
            if (IPAddress.TryParse(text, out var address))
                return Normalize(address);
            if (text.IndexOfAny(new[] { ' ', '\t', '\r', '\n', '\0', '/' }) >= 0)
                throw new FtpException(FtpErrorKind.Trust, "InvalidHost", $"'{host}' is not a host name or address.");
            return text.ToLowerInvariant();
        }

        public static string Normalize(IPAddress address)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6)
                address = address.MapToIPv4();
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
                address = new IPAddress(address.GetAddressBytes());
            return address.ToString();
        }

        /// <summary>A brand comes from the server: a hostile one could carry line breaks (forging store lines)
        /// or terminal escapes (forging what the user sees). Control characters become '?'; empty is null.</summary>
        public static string? CleanBrand(string? brand)
        {
            if (brand == null) return null;
            var sb = new StringBuilder(brand.Length);
            foreach (char c in brand.Trim())
                sb.Append(char.IsControl(c) ? '?' : c);
            return sb.Length == 0 ? null : sb.ToString();
        }
    }
}
