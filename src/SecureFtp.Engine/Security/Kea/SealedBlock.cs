using System;

namespace SecureFtp.Security.Kea
{
    /// <summary>The shape RFC 2773 uses everywhere it wants integrity: Encrypt(body || pad || ICV), the ICV
    /// computed over body and pad (Figures 2, 4, 7, 8). The CBC chain is the caller's, so a sealed block
    /// continues whatever stream it belongs to.</summary>
    internal static class SealedBlock
    {
        public static int SealedLength(int bodyLength) => bodyLength + Skipjack.PadLength(bodyLength) + Skipjack.IcvSize;

        public static byte[] Seal(SkipjackCbcStream cbc, byte[] body, int offset, int count)
        {
            int pad = Skipjack.PadLength(count);
            var output = new byte[count + pad + Skipjack.IcvSize];
            Buffer.BlockCopy(body, offset, output, 0, count);
            Skipjack.WritePad(output, count, pad);
            Skipjack.WriteIcv(output, 0, count + pad, output, count + pad);
            cbc.Process(output, 0, output.Length);
            return output;
        }

        /// <summary>Decrypts a sealed block and returns its body. <paramref name="what"/> names the token in the
        /// error ("command", "reply", "file token") so the user learns which check failed.</summary>
        public static byte[] Open(SkipjackCbcStream cbc, byte[] token, int offset, int count, string what)
        {
            if (count < 2 * Skipjack.BlockSize || count % Skipjack.BlockSize != 0)
                throw KeaErrors.Malformed(what, $"{count} octets is not a whole number of 8-octet blocks holding a pad and an ICV");
            var plain = new byte[count];
            Buffer.BlockCopy(token, offset, plain, 0, count);
            cbc.Process(plain, 0, count);
            return Verify(plain, count, what);
        }

        /// <summary>Checks the ICV and pad of an already decrypted sealed block and returns its body.</summary>
        public static byte[] Verify(byte[] plain, int count, string what)
        {
            int covered = count - Skipjack.IcvSize;
            if (covered < Skipjack.BlockSize || !Skipjack.CheckIcv(plain, 0, covered, covered))
                throw KeaErrors.Security("KeaIcvMismatch",
                    $"the {what} failed its integrity check (ICV mismatch): it was altered, replayed or reordered on the way");
            int pad = Skipjack.ReadPad(plain, 0, covered);
            if (pad < 0)
                throw KeaErrors.Security("KeaBadPad", $"the {what} has an invalid pad after decryption: it was altered on the way");
            var body = new byte[covered - pad];
            Buffer.BlockCopy(plain, 0, body, 0, body.Length);
            return body;
        }
    }
}
