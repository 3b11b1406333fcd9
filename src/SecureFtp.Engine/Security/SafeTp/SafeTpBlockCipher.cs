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

    /// <summary>The keys of one direction, derived from the master key (X-SafeTP1.md s.4), and how much they have
    /// protected (X-SafeTP1.md s.6.5, the key usage limit).</summary>
    internal sealed class SafeTpDirectionKeys
    {
        public const int MasterKeyLength = 20;

        /// <summary>The most 64-bit cipher blocks one direction key encrypts (X-SafeTP1.md s.6.5): 2^28 blocks, 2 GiB.
        /// 3DES has a 64-bit block, so in CBC mode two equal ciphertext blocks (which reveal the XOR of two plaintext
        /// blocks) become likely after about 2^32 blocks, the birthday bound that Sweet32 (Bhargavan and Leurent,
        /// 2016) exploited. After n blocks the chance of any such collision is about n^2 / 2^65: 2^-9 at this limit.
        /// (OpenSSH rekeys 64-bit-block ciphers every 1 GiB; NIST SP 800-67 rev. 2 is stricter still, 2^20 blocks,
        /// which would end a session after 8 MiB.) X-SafeTP1 has no rekey message, so at the limit the session ends
        /// cleanly and the client reconnects (fresh master key, fresh keys).</summary>
        public const long DefaultBlockLimit = 1L << 28;

        /// <summary>Blocks kept back for control lines once data has used up its share, so that the reply saying why a
        /// transfer stopped, and a QUIT, still go through under the key.</summary>
        public const long ControlReserve = 1L << 16;

        private long _used;

        public SafeTpDirectionKeys(byte[] cipherKey, byte[] macKey, long blockLimit = DefaultBlockLimit)
        {
            CipherKey = cipherKey; MacKey = macKey; BlockLimit = blockLimit;
        }

        public byte[] CipherKey { get; }
        public byte[] MacKey { get; }

        /// <summary>The usage limit in 64-bit cipher blocks (tests lower it).</summary>
        public long BlockLimit { get; }

        /// <summary>Cipher blocks encrypted (sending) or decrypted (receiving) under this key so far.</summary>
        public long BlocksUsed => System.Threading.Interlocked.Read(ref _used);

        /// <summary>Counts <paramref name="blocks"/> more cipher blocks, or throws KeyUsageLimitReached when they would
        /// pass the limit (data stops <see cref="ControlReserve"/> blocks earlier than control lines).</summary>
        public void Use(long blocks, bool forData, bool sending)
        {
            long limit = forData ? Math.Max(0, BlockLimit - Math.Min(ControlReserve, BlockLimit / 2)) : BlockLimit;
            while (true)
            {
                long used = BlocksUsed;
                if (used + blocks > limit)
                    throw new FtpException(FtpErrorKind.Security, "KeyUsageLimitReached",
                        $"This X-SafeTP1 session has {(sending ? "sent" : "received")} {FormatBytes(used * 8)} under one key, its limit for {(forData ? "data" : "the session")}: " +
                        "3DES's 64-bit block makes more unsafe under a single key (docs/protocol/X-SafeTP1.md s.6.5). " +
                        (sending ? "Nothing more is sent under it; reconnect to go on with fresh keys." : "The peer went past it, so the block was refused; reconnect to go on with fresh keys."));
                if (System.Threading.Interlocked.CompareExchange(ref _used, used + blocks, used) == used) return;
            }
        }

        private static string FormatBytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.##} GiB" : $"{bytes / (double)(1L << 20):0.##} MiB";

        /// <summary>cipher key = first 24 bytes of SHA1(M || label || 0x01) || SHA1(M || label || 0x02),
        /// label "X-SafeTP1 client-to-server cipher" (or server-to-client); mac key = SHA1(M || "X-SafeTP1 ... mac").</summary>
        public static SafeTpDirectionKeys Derive(byte[] masterKey, bool clientToServer, long blockLimit = DefaultBlockLimit)
        {
            string direction = clientToServer ? "client-to-server" : "server-to-client";
            var first = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " cipher"), new byte[] { 1 });
            var second = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " cipher"), new byte[] { 2 });
            var cipherKey = new byte[24];
            Buffer.BlockCopy(first, 0, cipherKey, 0, 20);
            Buffer.BlockCopy(second, 0, cipherKey, 20, 4);
            var macKey = Sha1(masterKey, Encoding.ASCII.GetBytes("X-SafeTP1 " + direction + " mac"));
            return new SafeTpDirectionKeys(cipherKey, macKey, blockLimit);
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
        private const int HmacBlockSize = 64;

        private readonly SafeTpDirectionKeys _keys;
        private readonly bool _forData;
        private readonly HMac _mac = new HMac(new Sha1Digest());
        private readonly CbcBlockCipher _cbc = new CbcBlockCipher(new DesEdeEngine());
        private readonly SecureRandom _random;
        private readonly Sha1Digest _innerStart = new Sha1Digest();
        private readonly Sha1Digest _outerStart = new Sha1Digest();

        public SafeTpBlockCipher(SafeTpDirectionKeys keys, SecureRandom random, bool forData = false)
        {
            _keys = keys;
            _random = random;
            _forData = forData;
            _mac.Init(new KeyParameter(keys.MacKey));
            // HMAC (RFC 2104) by hand for Open: the inner and outer hashes with the padded key already absorbed,
            // so that the eight candidate MACs of a block can be finished from one shared prefix.
            var inner = new byte[HmacBlockSize];
            var outer = new byte[HmacBlockSize];
            Buffer.BlockCopy(keys.MacKey, 0, inner, 0, keys.MacKey.Length);
            Buffer.BlockCopy(keys.MacKey, 0, outer, 0, keys.MacKey.Length);
            for (int i = 0; i < HmacBlockSize; i++) { inner[i] ^= 0x36; outer[i] ^= 0x5C; }
            _innerStart.BlockUpdate(inner, 0, HmacBlockSize);
            _outerStart.BlockUpdate(outer, 0, HmacBlockSize);
            Array.Clear(inner, 0, inner.Length);
            Array.Clear(outer, 0, outer.Length);
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
            _keys.Use(padded / BlockLength, _forData, sending: true);
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
        /// "modified" when it fails: a changed bit, a block under other keys (echo, another session) alike.
        /// <para>No padding oracle (Vaudenay 2002; Lucky Thirteen, AlFardan and Paterson 2013). MAC-then-pad-then-
        /// encrypt in CBC mode lets an attacker who can tell "bad padding" from "bad MAC" decrypt a block byte by
        /// byte. Here the two cannot be told apart: (1) the same exception, same message, for every failure after
        /// decryption; (2) the same work whatever the padding says. The padding is checked with masks over all of
        /// the last eight bytes, never with a branch on its value. The MAC is computed for all eight possible
        /// padding lengths every time: one inner hash over the prefix they share, then eight short finishes (at
        /// most seven bytes, the inner and the outer finalisation each), each compared in full without early exit,
        /// and the one that matches the claimed padding length selected with a mask. So the hash work, and the
        /// bytes read, do not depend on the padding byte or on where the MAC ends. (3) Whatever failed, the block
        /// ends the session (<see cref="SafeTpSecurity"/>): an attacker gets one guess per session, under keys that
        /// are never used again, while a padding oracle needs hundreds of guesses under one key. What remains
        /// variable is only public: the token's length.</para></summary>
        public byte[] Open(ArraySegment<byte> token, int headerLength)
        {
            int body = token.Count - IvLength;
            if (body < headerLength + MacLength + 1 || body % BlockLength != 0) throw Modified();
            _keys.Use(body / BlockLength, _forData, sending: false);
            var plain = new byte[body];
            _cbc.Init(false, new ParametersWithIV(new DesEdeParameters(_keys.CipherKey), token.Array!, token.Offset, IvLength));
            for (int i = 0; i < body; i += BlockLength) _cbc.ProcessBlock(token.Array!, token.Offset + IvLength + i, plain, i);

            int pad = plain[body - 1];
            // good = 1 when 1 <= pad <= 8 and the last pad bytes all equal pad; computed without branching on pad.
            int bad = ((pad - 1) >> 31) | ((BlockLength - pad) >> 31);
            for (int i = 1; i <= BlockLength; i++)
            {
                int inPadding = (i - 1 - pad) >> 31;              // all ones when byte body-i is a padding byte
                bad |= inPadding & (plain[body - i] ^ pad);
            }
            int good = ((bad | -bad) >> 31) + 1;                    // 1 when bad == 0, else 0

            // MAC for every candidate padding length 1..8 (content = body - MacLength - p), one shared prefix. Which
            // candidates leave room for a header depends on the token's length only, which is public.
            int shortest = Math.Max(headerLength, body - MacLength - BlockLength);
            var prefix = new Sha1Digest(_innerStart);
            prefix.BlockUpdate(plain, 0, shortest);
            var innerHash = new byte[MacLength];
            var candidate = new byte[MacLength];
            int macOk = 0;
            for (int p = 1; p <= BlockLength; p++)
            {
                int contentLength = body - MacLength - p;
                if (contentLength < shortest) continue;             // no room for the header: this length can never be valid
                var inner = new Sha1Digest(prefix);
                inner.BlockUpdate(plain, shortest, contentLength - shortest);
                inner.DoFinal(innerHash, 0);
                var outer = new Sha1Digest(_outerStart);
                outer.BlockUpdate(innerHash, 0, MacLength);
                outer.DoFinal(candidate, 0);
                int diff = 0;
                for (int i = 0; i < MacLength; i++) diff |= candidate[i] ^ plain[contentLength + i];
                int matches = ((diff | -diff) >> 31) + 1;           // 1 when this candidate's MAC is right
                int isClaimed = (((p ^ pad) | -(p ^ pad)) >> 31) + 1; // 1 when p is the padding length the block claims
                macOk |= matches & isClaimed;
            }
            if ((good & macOk) == 0) throw Modified();
            int length = body - MacLength - pad;
            var content = new byte[length];
            Buffer.BlockCopy(plain, 0, content, 0, length);
            return content;
        }

        /// <summary>One error for every way a block can fail its check: which part failed is not said (no oracle).</summary>
        private static FtpException Modified() => new FtpException(FtpErrorKind.Security, "ProtectedBlockModified",
            "An X-SafeTP1 block was rejected: its check value does not match. It was modified on the way, or it was not made with this session's keys for this direction (an echoed block or one from another session).");
    }
}
