using System;
using System.Linq;

namespace SecureFtp.Security.Kea
{
    /// <summary>Octet-string helpers shared by the KEA-SKIPJACK tokens.</summary>
    internal static class KeaBytes
    {
        /// <summary>The "||" of RFC 2773.</summary>
        public static byte[] Concat(params byte[][] parts)
        {
            var output = new byte[parts.Sum(p => p.Length)];
            int offset = 0;
            foreach (var part in parts)
            {
                Buffer.BlockCopy(part, 0, output, offset, part.Length);
                offset += part.Length;
            }
            return output;
        }

        /// <summary>Compares without an early exit, so timing does not tell how many leading octets matched.</summary>
        public static bool FixedTimeEquals(byte[] a, int aOffset, byte[] b, int bOffset, int count)
        {
            int diff = 0;
            for (int i = 0; i < count; i++) diff |= a[aOffset + i] ^ b[bOffset + i];
            return diff == 0;
        }

        public static bool FixedTimeEquals(byte[] a, byte[] b) => a.Length == b.Length && FixedTimeEquals(a, 0, b, 0, a.Length);

        public static bool IsZero(byte[] value) => value.All(b => b == 0);
    }
}
