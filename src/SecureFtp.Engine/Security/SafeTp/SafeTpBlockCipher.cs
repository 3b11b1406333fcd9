using System;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>Block flags (docs/protocol/X-SafeTP1.md s.5.1): who sent the block and what kind it is.</summary>
    [Flags]
    internal enum SafeTpFlags : uint
    {
        None = 0,
        FromServer = 0x1,
        Data = 0x2,
        EndOfFile = 0x4,
        Handshake = 0x8,
    }

    /// <summary>The keys of one direction, derived from the master key (X-SafeTP1.md s.4).</summary>
    internal sealed class SafeTpDirectionKeys
    {
        public const int MasterKeyLength = 20;

        public SafeTpDirectionKeys(byte[] cipherKey, byte[] macKey) { CipherKey = cipherKey; MacKey = macKey; }

        public byte[] CipherKey { get; }
        public byte[] MacKey { get; }

        /// <summary>cipher key = first 24 bytes of SHA1(M || label || 0x01) || SHA1(M || label || 0x02),
        /// label "X-SafeTP1 client-to-server cipher" (or server-to-client); mac key = SHA1(M || "X-SafeTP1 ... mac").</summary>
        public static SafeTpDirectionKeys Derive(byte[] masterKey, bool clientToServer)
        {
            string direction = clientToServer ? "client-to-server" : "server-to-client";
            var first = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " cipher"), new byte[] { 1 });
            var second = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " cipher"), new byte[] { 2 });
            var cipherKey = new byte[24];
            Buffer.BlockCopy(first, 0, cipherKey, 0, 20);
            Buffer.BlockCopy(second, 0, cipherKey, 20, 4);
            var macKey = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " mac"));
            return new SafeTpDirectionKeys(cipherKey, macKey);
        }

        internal static byte[] Sha1(params byte[][] parts)
        {
            var digest = new Sha1Digest();
            foreach (var part in parts) digest.BlockUpdate(part, 0, part.Length);
            var result = new byte[digest.GetDigestSize()];
            digest.DoFinal(result, 0);
            return result;
        }
    }

    /// <summary>Seals and opens one X-SafeTP1 block (X-SafeTP1.md s.5): header || payload, HMAC-SHA1 appended,
    /// PKCS#7-padded, 3DES-EDE-CBC under a fresh random IV that leads the token. Not thread-safe: one instance per
    /// direction and user.</summary>
    internal sealed class SafeTpBlockCipher
    {
        public const int IvLength = 8;
        public const int MacLength = 20;
        private const int BlockLength = 8;

        private readonly SafeTpDirectionKeys _keys;
        private readonly HMac _mac = new HMac(new Sha1Digest());
        private readonly CbcBlockCipher _cbc = new CbcBlockCipher(new DesEdeEngine());
        private readonly SecureRandom _random;

        public SafeTpBlockCipher(SafeTpDirectionKeys keys, SecureRandom random)
        {
            _keys = keys;
            _random = random;
            _mac.Init(new KeyParameter(keys.MacKey));
        }

        /// <summary>Token size for a header and payload of these lengths: IV + padded(header + payload + MAC).</summary>
        public static int SealedSize(int headerLength, int payloadLength)
        {
            int inner = headerLength + payloadLength + MacLength;
            return IvLength + (inner / BlockLength + 1) * BlockLength;
        }

        /// <summary>Largest payload a token of this size can carry (padding at least one byte).</summary>
        public static int MaxPayload(int headerLength, int tokenSize)
            => Math.Max(0, tokenSize - IvLength - headerLength - MacLength - 1);

        public byte[] Seal(byte[] header, ArraySegment<byte> payload)
        {
            int inner = header.Length + payload.Count + MacLength;
            int padded = (inner / BlockLength + 1) * BlockLength;
            var plain = new byte[padded];
            Buffer.BlockCopy(header, 0, plain, 0, header.Length);
            if (payload.Count > 0) Buffer.BlockCopy(payload.Array!, payload.Offset, plain, header.Length, payload.Count);
            _mac.BlockUpdate(plain, 0, header.Length + payload.Count);
            _mac.DoFinal(plain, header.Length + payload.Count);
            byte pad = (byte)(padded - inner);
            for (int i = inner; i < padded; i++) plain[i] = pad;

            var token = new byte[IvLength + padded];
            _random.NextBytes(token, 0, IvLength);
            _cbc.Init(true, new ParametersWithIV(new DesEdeParameters(_keys.CipherKey), token, 0, IvLength));
            for (int i = 0; i < padded; i += BlockLength) _cbc.ProcessBlock(plain, i, token, IvLength + i);
            return token;
        }

        /// <summary>Decrypts and checks a token; returns header || payload (MAC and padding removed), or throws
        /// "modified" when it fails: a changed bit, a block under other keys (echo, another session) alike.</summary>
        public byte[] Open(ArraySegment<byte> token, int headerLength)
        {
            int body = token.Count - IvLength;
            if (body < headerLength + MacLength + 1 || body % BlockLength != 0) throw Modified("its length is impossible");
            var plain = new byte[body];
            _cbc.Init(false, new ParametersWithIV(new DesEdeParameters(_keys.CipherKey), token.Array!, token.Offset, IvLength));
            for (int i = 0; i < body; i += BlockLength) _cbc.ProcessBlock(token.Array!, token.Offset + IvLength + i, plain, i);
            int pad = plain[body - 1];
            bool padOk = pad >= 1 && pad <= BlockLength;
            int inner = body - (padOk ? pad : 1);
            for (int i = inner; padOk && i < body; i++) padOk &= plain[i] == pad;
            int contentLength = inner - MacLength;
            if (!padOk || contentLength < headerLength) throw Modified("its check value does not match");
            var expected = new byte[MacLength];
            _mac.BlockUpdate(plain, 0, contentLength);
            _mac.DoFinal(expected, 0);
            int diff = 0;
            for (int i = 0; i < MacLength; i++) diff |= expected[i] ^ plain[contentLength + i];
            if (diff != 0) throw Modified("its check value does not match");
            var content = new byte[contentLength];
            Buffer.BlockCopy(plain, 0, content, 0, contentLength);
            return content;
        }

        private static FtpException Modified(string why) => new FtpException(FtpErrorKind.Security, "ProtectedBlockModified",
            $"An X-SafeTP1 block was rejected: {why}. It was modified on the way, or it was not made with this session's keys for this direction (an echoed block or one from another session).");
    }
}
