using System;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace SecureFtp.Data
{
    /// <summary>Parses the 227 (PASV) and 229 (EPSV) replies.</summary>
    public static class PassiveReplyParser
    {
        private static readonly Regex Pasv = new Regex(@"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})", RegexOptions.CultureInvariant);
        private static readonly Regex Epsv = new Regex(@"\((.)\1\1(\d{1,5})\1\)", RegexOptions.CultureInvariant);

        /// <summary>Returns the address and port a 227 reply names. Out-of-range numbers are a protocol error.</summary>
        public static IPEndPoint ParsePasv(FtpReply reply)
        {
            var m = Pasv.Match(reply.Message);
            if (!m.Success)
                throw new FtpException(FtpErrorKind.Protocol, "MalformedPasvReply", $"The server's PASV reply has no address: {reply}", reply);
            var n = new int[6];
            for (int i = 0; i < 6; i++)
            {
                n[i] = int.Parse(m.Groups[i + 1].Value, CultureInfo.InvariantCulture);
                if (n[i] > 255) throw new FtpException(FtpErrorKind.Protocol, "MalformedPasvReply", $"The server's PASV reply has a number above 255: {reply}", reply);
            }
            int port = n[4] * 256 + n[5];
            if (port == 0) throw new FtpException(FtpErrorKind.Protocol, "MalformedPasvReply", $"The server's PASV reply names port 0: {reply}", reply);
            return new IPEndPoint(new IPAddress(new[] { (byte)n[0], (byte)n[1], (byte)n[2], (byte)n[3] }), port);
        }

        /// <summary>Returns the port a 229 reply names ("(|||port|)"; RFC 2428 s.3).</summary>
        public static int ParseEpsv(FtpReply reply)
        {
            var m = Epsv.Match(reply.Message);
            if (!m.Success || !int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
                throw new FtpException(FtpErrorKind.Protocol, "MalformedEpsvReply", $"The server's EPSV reply has no valid port: {reply}", reply);
            return port;
        }

        /// <summary>PORT argument for an IPv4 end point: h1,h2,h3,h4,p1,p2.</summary>
        public static string FormatPort(IPEndPoint ep)
        {
            var b = ep.Address.MapToIPv4().GetAddressBytes();
            return $"{b[0]},{b[1]},{b[2]},{b[3]},{ep.Port >> 8},{ep.Port & 255}";
        }

        /// <summary>EPRT argument: |1|addr|port| or |2|addr|port| (RFC 2428 s.2).</summary>
        public static string FormatEprt(IPEndPoint ep)
        {
            var a = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
            int family = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 2 : 1;
            return $"|{family}|{a}|{ep.Port}|";
        }
    }
}
