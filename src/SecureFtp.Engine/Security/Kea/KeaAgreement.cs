using System;
using Org.BouncyCastle.Math;

namespace SecureFtp.Security.Kea
{
    /// <summary>The Key Exchange Algorithm as the NIST "SKIPJACK and KEA Algorithm Specifications" (v2.0,
    /// 29 May 1998) s.C defines it: each side has a static pair (x, Y = g^x) certified, and an ephemeral pair
    /// (r, R = g^r) made for this exchange.</summary>
    internal static class KeaAgreement
    {
        /// <summary>The 80-bit pad of the key formation step (NIST spec s.C).</summary>
        internal static readonly byte[] Pad = { 0x72, 0xf1, 0xa8, 0x7e, 0x92, 0x82, 0x41, 0x98, 0xab, 0x0b };

        /// <summary>Computes the TEK from our static private x, our ephemeral private r, and the peer's
        /// static Y and ephemeral R: w = (Y^r + R^x) mod p, then the 80-bit key formation. Both received values
        /// are checked first; a value that fails means a forged or altered exchange, never a retry.</summary>
        public static byte[] ComputeTek(KeaDomain domain, BigInteger ownStaticPrivate, BigInteger ownEphemeralPrivate,
            BigInteger peerStaticPublic, BigInteger peerEphemeralPublic)
        {
            if (!domain.IsValidPublicValue(peerStaticPublic))
                throw KeaErrors.Security("KeaBadPublicValue",
                    "the peer's static KEA public key is not a valid value of the domain (need 1 < Y < p and Y^q mod p = 1)");
            if (!domain.IsValidPublicValue(peerEphemeralPublic))
                throw KeaErrors.Security("KeaBadPublicValue",
                    "the peer's ephemeral KEA value R is not a valid value of the domain (need 1 < R < p and R^q mod p = 1)");

            var w = peerStaticPublic.ModPow(ownEphemeralPrivate, domain.P)
                .Add(peerEphemeralPublic.ModPow(ownStaticPrivate, domain.P))
                .Mod(domain.P);
            if (w.SignValue == 0)
                throw KeaErrors.Security("KeaBadPublicValue", "the KEA shared value w is zero: the peer's values were chosen to force it");
            return FormKey(KeaDomain.ToFixed(w));
        }

        /// <summary>NIST spec s.C key formation: v1 is the 80 most significant bits of w, v2 the next 80;
        /// TEK = the 80-bit SKIPJACK wrap of v2 under (v1 XOR pad): encrypt v2's first 64 bits, XOR the first 16
        /// bits of the result into v2's last 16, encrypt the first 64 bits again.</summary>
        internal static byte[] FormKey(byte[] w)
        {
            var v1 = new byte[Skipjack.KeySize];
            var v2 = new byte[Skipjack.KeySize];
            Buffer.BlockCopy(w, 0, v1, 0, Skipjack.KeySize);
            Buffer.BlockCopy(w, Skipjack.KeySize, v2, 0, Skipjack.KeySize);
            for (int i = 0; i < Skipjack.KeySize; i++) v1[i] ^= Pad[i];
            var tek = Skipjack.Wrap80(v1, v2);
            Array.Clear(v1, 0, v1.Length);
            Array.Clear(v2, 0, v2.Length);
            return tek;
        }
    }
}
