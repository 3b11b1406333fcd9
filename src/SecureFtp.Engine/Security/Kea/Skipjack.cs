using System;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace SecureFtp.Security.Kea
{
    /// <summary>SKIPJACK (NIST, "SKIPJACK and KEA Algorithm Specifications" v2.0) and the pieces RFC 2773 builds
    /// on it: the pad of section 2.0, the 32-bit one's-complement ICV, and the 80-bit key wrap that FORTEZZA
    /// used both for KEA key formation and for wrapping a key in another (docs/protocol/KEA-SKIPJACK.md s.3).</summary>
    internal static class Skipjack
    {
        public const int KeySize = 10;
        public const int BlockSize = 8;
        public const int IcvSize = 8;
        /// <summary>An 80-bit key wrapped in another, with its 16-bit checkword (RFC 2773 "WMEK 12 octets").</summary>
        public const int WrappedKeySize = 12;

        private static readonly byte[] CheckwordPlaintext = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

        public static SkipjackEngine CreateEngine(byte[] key, bool encrypt)
        {
            if (key.Length != KeySize) throw new ArgumentException("A SKIPJACK key is 80 bits (10 octets).", nameof(key));
            var engine = new SkipjackEngine();
            engine.Init(encrypt, new KeyParameter(key));
            return engine;
        }

        /// <summary>One codebook (ECB) encryption of an 8-octet block.</summary>
        public static byte[] EncryptBlock(byte[] key, byte[] block)
        {
            var output = new byte[BlockSize];
            CreateEngine(key, true).ProcessBlock(block, 0, output, 0);
            return output;
        }

        /// <summary>RFC 2773 s.2.0: append 8 - (n mod 8) octets, each of that value (always 1 to 8 octets).</summary>
        public static int PadLength(int n) => BlockSize - (n % BlockSize);

        public static void WritePad(byte[] buffer, int offset, int padLength)
        {
            for (int i = 0; i < padLength; i++) buffer[offset + i] = (byte)padLength;
        }

        /// <summary>The pad length at the end of <paramref name="length"/> octets, or -1 when the octets there
        /// are not a valid pad.</summary>
        public static int ReadPad(byte[] buffer, int offset, int length)
        {
            if (length <= 0) return -1;
            int pad = buffer[offset + length - 1];
            if (pad < 1 || pad > BlockSize || pad > length) return -1;
            for (int i = length - pad; i < length; i++)
                if (buffer[offset + i] != pad) return -1;
            return pad;
        }

        /// <summary>RFC 2773 s.2.0: "the 32-bit one's complement addition of each 32-bit block followed by 32 zero
        /// bits". Words are big-endian; the carry out of bit 31 is added back in (end-around carry); the sum is
        /// not inverted. <paramref name="length"/> is a multiple of 8 here (the data is padded first).</summary>
        public static void WriteIcv(byte[] data, int offset, int length, byte[] output, int outputOffset)
        {
            uint sum = OnesComplementSum(data, offset, length);
            output[outputOffset] = (byte)(sum >> 24);
            output[outputOffset + 1] = (byte)(sum >> 16);
            output[outputOffset + 2] = (byte)(sum >> 8);
            output[outputOffset + 3] = (byte)sum;
            output[outputOffset + 4] = 0;
            output[outputOffset + 5] = 0;
            output[outputOffset + 6] = 0;
            output[outputOffset + 7] = 0;
        }

        /// <summary>True when the 8 octets at <paramref name="icvOffset"/> are the ICV of the data before them.</summary>
        public static bool CheckIcv(byte[] data, int offset, int length, int icvOffset)
        {
            var expected = new byte[IcvSize];
            WriteIcv(data, offset, length, expected, 0);
            return KeaBytes.FixedTimeEquals(expected, 0, data, icvOffset, IcvSize);
        }

        private static uint OnesComplementSum(byte[] data, int offset, int length)
        {
            if (length % 4 != 0) throw new ArgumentException("The ICV is computed over whole 32-bit words.", nameof(length));
            ulong sum = 0;
            for (int i = 0; i < length; i += 4)
            {
                uint word = (uint)(data[offset + i] << 24 | data[offset + i + 1] << 16 | data[offset + i + 2] << 8 | data[offset + i + 3]);
                sum += word;
                sum = (sum & 0xFFFFFFFFUL) + (sum >> 32);
            }
            return (uint)sum;
        }

        /// <summary>The FORTEZZA 80-bit wrap: E(first 8 octets); XOR the first two octets of that into the last
        /// two; E the first 8 octets again. It is the last step of KEA key formation (NIST spec s.C) and, with
        /// the 16-bit checkword appended, the wrap of a MEK or FEK in the TEK (RFC 2773 WMEK, 12 octets).</summary>
        public static byte[] Wrap80(byte[] wrappingKey, byte[] key)
        {
            if (key.Length != KeySize) throw new ArgumentException("Only 80-bit keys are wrapped.", nameof(key));
            var engine = CreateEngine(wrappingKey, true);
            var output = new byte[KeySize];
            engine.ProcessBlock(key, 0, output, 0);
            output[8] = (byte)(key[8] ^ output[0]);
            output[9] = (byte)(key[9] ^ output[1]);
            engine.ProcessBlock(output, 0, output, 0);
            return output;
        }

        public static byte[] Unwrap80(byte[] wrappingKey, byte[] wrapped, int offset)
        {
            var engine = CreateEngine(wrappingKey, false);
            var key = new byte[KeySize];
            engine.ProcessBlock(wrapped, offset, key, 0);
            key[8] = (byte)(wrapped[offset + 8] ^ key[0]);
            key[9] = (byte)(wrapped[offset + 9] ^ key[1]);
            engine.ProcessBlock(key, 0, key, 0);
            return key;
        }

        /// <summary>The 16-bit checkword of a key: octets 1 and 2 of E_key(0x5555555555555555), as the
        /// Netscape software FORTEZZA token computed it. It lets the receiver tell a wrong TEK from a right one.</summary>
        public static byte[] Checkword(byte[] key)
        {
            var block = EncryptBlock(key, CheckwordPlaintext);
            return new[] { block[1], block[2] };
        }

        /// <summary>Wraps an 80-bit key in another: the 10-octet wrap followed by the key's 2-octet checkword.</summary>
        public static byte[] WrapKey(byte[] wrappingKey, byte[] key)
        {
            var output = new byte[WrappedKeySize];
            Buffer.BlockCopy(Wrap80(wrappingKey, key), 0, output, 0, KeySize);
            Buffer.BlockCopy(Checkword(key), 0, output, KeySize, 2);
            return output;
        }

        /// <summary>Unwraps a 12-octet wrapped key; null when the checkword does not match (the wrapping key is
        /// not the one the sender used, or the octets were altered).</summary>
        public static byte[]? UnwrapKey(byte[] wrappingKey, byte[] wrapped, int offset)
        {
            var key = Unwrap80(wrappingKey, wrapped, offset);
            var check = Checkword(key);
            if (check[0] != wrapped[offset + KeySize] || check[1] != wrapped[offset + KeySize + 1]) return null;
            return key;
        }
    }

    /// <summary>One direction of SKIPJACK CBC whose chaining value carries over from one call to the next, as a
    /// FORTEZZA card kept it: every token in that direction continues the chain where the previous one ended.</summary>
    internal sealed class SkipjackCbcStream
    {
        private readonly SkipjackEngine _engine;
        private readonly bool _encrypt;
        private readonly byte[] _chain = new byte[Skipjack.BlockSize];

        public SkipjackCbcStream(byte[] key, byte[] iv, bool encrypt)
        {
            if (iv.Length != Skipjack.BlockSize) throw new ArgumentException("A SKIPJACK CBC IV is 8 octets.", nameof(iv));
            _engine = Skipjack.CreateEngine(key, encrypt);
            _encrypt = encrypt;
            Buffer.BlockCopy(iv, 0, _chain, 0, Skipjack.BlockSize);
        }

        /// <summary>Encrypts or decrypts whole blocks in place.</summary>
        public void Process(byte[] buffer, int offset, int length)
        {
            if (length % Skipjack.BlockSize != 0) throw new ArgumentException("CBC works on whole 8-octet blocks.", nameof(length));
            var saved = new byte[Skipjack.BlockSize];
            for (int i = offset; i < offset + length; i += Skipjack.BlockSize)
            {
                if (_encrypt)
                {
                    for (int j = 0; j < Skipjack.BlockSize; j++) buffer[i + j] ^= _chain[j];
                    _engine.ProcessBlock(buffer, i, buffer, i);
                    Buffer.BlockCopy(buffer, i, _chain, 0, Skipjack.BlockSize);
                }
                else
                {
                    Buffer.BlockCopy(buffer, i, saved, 0, Skipjack.BlockSize);
                    _engine.ProcessBlock(buffer, i, buffer, i);
                    for (int j = 0; j < Skipjack.BlockSize; j++) buffer[i + j] ^= _chain[j];
                    Buffer.BlockCopy(saved, 0, _chain, 0, Skipjack.BlockSize);
                }
            }
        }
    }
}
