using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SecureFtp.Trust
{
    /// <summary>Fingerprints as the trust store keeps and shows them: SHA-256, upper-case hex, bytes separated
    /// by colons ("AB:CD:..."), the form ssh-keygen -E sha256 -l users and certificate viewers recognise.</summary>
    public static class KeyFingerprint
    {
        /// <summary>The SHA-256 fingerprint of <paramref name="data"/> (a public key or a certificate).</summary>
        public static string Compute(byte[] data)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            using var sha = SHA256.Create();
            return ToColonHex(sha.ComputeHash(data));
        }

        /// <summary>Bytes as upper-case hex with colons.</summary>
        public static string ToColonHex(byte[] bytes)
        {
            var sb = new StringBuilder(bytes.Length * 3);
            for (int i = 0; i < bytes.Length; i++)
            {
                if (i > 0) sb.Append(':');
                sb.Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }

        /// <summary>Brings a fingerprint the user typed (any case; colons, spaces or dashes optional; an optional
        /// "SHA256:" prefix) into the stored form. Throws when it is not a 32-byte SHA-256 value.</summary>
        public static string Normalize(string fingerprint)
        {
            if (fingerprint == null) throw new ArgumentNullException(nameof(fingerprint));
            var text = fingerprint.Trim();
            if (text.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase) || text.StartsWith("SHA-256:", StringComparison.OrdinalIgnoreCase))
                text = text.Substring(text.IndexOf(':') + 1);
            var hex = new StringBuilder(64);
            foreach (char c in text)
            {
                if (c == ':' || c == ' ' || c == '-') continue;
                if (!Uri.IsHexDigit(c))
                    throw new FtpException(FtpErrorKind.Trust, "InvalidFingerprint", $"'{fingerprint}' is not a SHA-256 fingerprint: '{c}' is not a hex digit.");
                hex.Append(char.ToUpperInvariant(c));
            }
            if (hex.Length != 64)
                throw new FtpException(FtpErrorKind.Trust, "InvalidFingerprint", $"'{fingerprint}' is not a SHA-256 fingerprint: it has {hex.Length / 2.0:0.#} bytes, not 32.");
            var bytes = new byte[32];
            for (int i = 0; i < 32; i++) bytes[i] = Convert.ToByte(hex.ToString(i * 2, 2), 16);
            return ToColonHex(bytes);
        }

        /// <summary>True when both name the same SHA-256 value, whatever their spelling.</summary>
        public static bool AreEqual(string a, string b)
            => string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);
    }
}
