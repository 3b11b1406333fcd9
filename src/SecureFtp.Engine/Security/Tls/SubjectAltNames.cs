using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1.X509;

namespace SecureFtp.Security.Tls
{
    /// <summary>The subject alternative names of a certificate, read with BouncyCastle so that both target
    /// frameworks see the same thing: for error messages, and for the name check on netstandard2.0, where
    /// X509Certificate2.MatchesHostname does not exist.</summary>
    internal static class SubjectAltNames
    {
        public static IReadOnlyList<string> Read(X509Certificate2 certificate)
        {
            var result = new List<string>();
            var bc = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate.RawData);
            var names = bc.GetSubjectAlternativeNameExtension();
            if (names == null) return result;
            foreach (var name in names.GetNames())
            {
                if (name.TagNo == GeneralName.DnsName)
                    result.Add("DNS:" + name.Name.ToString());
                else if (name.TagNo == GeneralName.IPAddress)
                {
                    var bytes = Org.BouncyCastle.Asn1.Asn1OctetString.GetInstance(name.Name).GetOctets();
                    result.Add("IP:" + (bytes.Length is 4 or 16 ? new IPAddress(bytes).ToString() : Convert.ToBase64String(bytes)));
                }
            }
            return result;
        }

        /// <summary>RFC 6125: an IP literal matches only an IP address SAN; a DNS name matches a DNS SAN, with a
        /// wildcard allowed as the whole left-most label; the subject CN counts only when there are no DNS SANs.</summary>
        public static bool Matches(X509Certificate2 certificate, string host, IPAddress? address)
        {
            var names = Read(certificate);
            if (address != null)
                return names.Any(n => n.StartsWith("IP:", StringComparison.Ordinal) && IPAddress.TryParse(n.Substring(3), out var a) && a.Equals(address));
            string wanted = host.TrimEnd('.').ToLowerInvariant();
            var dns = names.Where(n => n.StartsWith("DNS:", StringComparison.Ordinal)).Select(n => n.Substring(4).TrimEnd('.').ToLowerInvariant()).ToList();
            if (dns.Count == 0)
            {
                string cn = certificate.GetNameInfo(X509NameType.SimpleName, false) ?? "";
                if (cn.Length > 0) dns.Add(cn.ToLowerInvariant());
            }
            foreach (var pattern in dns)
            {
                if (pattern == wanted) return true;
                if (pattern.StartsWith("*.", StringComparison.Ordinal))
                {
                    int dot = wanted.IndexOf('.');
                    if (dot > 0 && wanted.Substring(dot + 1) == pattern.Substring(2) && pattern.Count(c => c == '.') >= 2) return true;
                }
            }
            return false;
        }
    }
}
