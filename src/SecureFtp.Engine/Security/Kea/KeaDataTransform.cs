using System;
using System.Collections.Generic;
using Org.BouncyCastle.Crypto.Digests;

namespace SecureFtp.Security.Kea
{
    /// <summary>Remembers the token IVs of every file token sent or received in a session, so an earlier
    /// transfer replayed onto a new data connection, or an upload reflected back as a download, is refused.</summary>
    internal sealed class KeaReplayGuard
    {
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);

        public bool TryRecord(byte[] buffer, int offset, int count)
        {
            var key = Convert.ToBase64String(buffer, offset, count);
            lock (_seen) return _seen.Add(key);
        }
    }

    /// <summary>The file token of RFC 2773 Figures 7 and 8: Plaintext Token IV (24) || Encrypt_TEK(Wrapped key (12)
    /// || Hashvalue (20) || IV (24) || Label Type (1) || Label Length (4) || Label || pad || ICV (8)).</summary>
    internal sealed class KeaFileToken
    {
        public const int HashSize = 20;
        /// <summary>Wrapped key, hash, file IV field and the label header: the fixed part before the label.</summary>
        private const int FixedBodySize = Skipjack.WrappedKeySize + HashSize + KeaSecurity.IvFieldSize + KeaSecurityLabel.HeaderSize;
        private const int LabelLengthOffset = Skipjack.WrappedKeySize + HashSize + KeaSecurity.IvFieldSize + 1;

        public byte[] FileKey { get; }
        public byte[] FileIv { get; }
        /// <summary>SHA-1 of the whole plaintext file, or 20 zero octets when the sender did not know it in advance.</summary>
        public byte[] Hash { get; }
        public KeaSecurityLabel Label { get; }

        private KeaFileToken(byte[] fileKey, byte[] fileIv, byte[] hash, KeaSecurityLabel label)
        {
            FileKey = fileKey; FileIv = fileIv; Hash = hash; Label = label;
        }

        public static int Length(KeaSecurityLabel label) => KeaSecurity.IvFieldSize + SealedBlock.SealedLength(FixedBodySize + label.Length);

        public static byte[] Build(byte[] tek, byte[] tokenIvField, byte[] wrappedKey, byte[] hash, byte[] fileIvField, KeaSecurityLabel label)
        {
            var body = new byte[FixedBodySize + label.Length];
            Buffer.BlockCopy(wrappedKey, 0, body, 0, Skipjack.WrappedKeySize);
            Buffer.BlockCopy(hash, 0, body, Skipjack.WrappedKeySize, HashSize);
            Buffer.BlockCopy(fileIvField, 0, body, Skipjack.WrappedKeySize + HashSize, KeaSecurity.IvFieldSize);
            label.WriteTo(body, Skipjack.WrappedKeySize + HashSize + KeaSecurity.IvFieldSize);
            var cbc = new SkipjackCbcStream(tek, KeaSecurity.IvFromField(tokenIvField, 0, "file token"), encrypt: true);
            return KeaBytes.Concat(tokenIvField, SealedBlock.Seal(cbc, body, 0, body.Length));
        }

        /// <summary>Reads the token at the start of <paramref name="buffer"/>; returns it and its length.</summary>
        public static (KeaFileToken Token, int Length) Parse(byte[] tek, byte[] buffer, int offset, int count)
        {
            const string what = "file token";
            int minimum = KeaSecurity.IvFieldSize + SealedBlock.SealedLength(FixedBodySize);
            if (count < minimum) throw KeaErrors.Malformed(what, $"the first data block has {count} octets, fewer than the smallest token ({minimum})");
            var iv = KeaSecurity.IvFromField(buffer, offset, what);
            // Decrypt the blocks holding the label length first (on a copy), to learn where the token ends.
            int peekLength = (LabelLengthOffset + 4 + Skipjack.BlockSize - 1) / Skipjack.BlockSize * Skipjack.BlockSize;
            var peek = new byte[peekLength];
            Buffer.BlockCopy(buffer, offset + KeaSecurity.IvFieldSize, peek, 0, peekLength);
            new SkipjackCbcStream(tek, iv, encrypt: false).Process(peek, 0, peekLength);
            long labelLength = (long)peek[LabelLengthOffset] << 24 | (long)peek[LabelLengthOffset + 1] << 16
                | (long)peek[LabelLengthOffset + 2] << 8 | peek[LabelLengthOffset + 3];
            if (labelLength > KeaSecurityLabel.MaxLength)
                throw KeaErrors.Security("KeaIcvMismatch", $"the {what} does not decrypt to a plausible label length ({labelLength}): it was altered or made under another TEK");
            int sealedLength = SealedBlock.SealedLength(FixedBodySize + (int)labelLength);
            if (count < KeaSecurity.IvFieldSize + sealedLength)
                throw KeaErrors.Malformed(what, $"it needs {KeaSecurity.IvFieldSize + sealedLength} octets but the block has {count}");
            var body = SealedBlock.Open(new SkipjackCbcStream(tek, iv, encrypt: false), buffer, offset + KeaSecurity.IvFieldSize, sealedLength, what);
            var fileKey = Skipjack.UnwrapKey(tek, body, 0)
                ?? throw KeaErrors.Security("KeaWrongKey", $"the key in the {what} does not unwrap under the session TEK");
            var hash = new byte[HashSize];
            Buffer.BlockCopy(body, Skipjack.WrappedKeySize, hash, 0, HashSize);
            var fileIv = KeaSecurity.IvFromField(body, Skipjack.WrappedKeySize + HashSize, what);
            var label = KeaSecurityLabel.Read(body, Skipjack.WrappedKeySize + HashSize + KeaSecurity.IvFieldSize, body.Length, what);
            return (new KeaFileToken(fileKey, fileIv, hash, label), KeaSecurity.IvFieldSize + sealedLength);
        }
    }

    /// <summary>One data connection of KEA-SKIPJACK (docs/protocol/KEA-SKIPJACK.md s.7). The file is one SKIPJACK
    /// CBC stream under the key of the file token, starting at the token's file IV. Each protected buffer
    /// carries one record: the file octets of that buffer and a pad (1-8 octets, so the last octet is 1-8).
    /// The end-of-file buffer carries Encrypt(SHA-1 of the file || pad || ICV), whose last octet is 0 (the
    /// ICV's 32 zero bits): that tells it apart from a data record. The first buffer starts with the token.</summary>
    internal sealed class KeaDataTransform : ITransform
    {
        private readonly KeaSecurity _session;
        private readonly byte[] _tek;
        private readonly bool _sending;
        private readonly Sha1Digest _hash = new Sha1Digest();
        // Sending: the key, label and (for a pre-encrypted file) stored hash to put in the token.
        private readonly byte[]? _sendKey;
        private readonly KeaSecurityLabel _sendLabel;
        private readonly byte[]? _knownHash;
        private byte[]? _tokenHash;
        private SkipjackCbcStream? _cbc;
        private bool _started;
        private bool _finished;

        private KeaDataTransform(KeaSecurity session, byte[] tek, bool sending, byte[]? sendKey, KeaSecurityLabel label, byte[]? knownHash)
        {
            _session = session; _tek = tek; _sending = sending; _sendKey = sendKey; _sendLabel = label; _knownHash = knownHash;
        }

        public static KeaDataTransform ForSending(KeaSecurity session, byte[] tek, byte[] fileKey, KeaSecurityLabel label, byte[]? knownHash) =>
            new KeaDataTransform(session, tek, true, fileKey, label, knownHash);

        public static KeaDataTransform ForReceiving(KeaSecurity session, byte[] tek) =>
            new KeaDataTransform(session, tek, false, null, KeaSecurityLabel.Absent, null);

        private const int TrailerSize = 32;

        public int MaximumEncodedSize(int decodedSize) =>
            KeaFileToken.Length(_sendLabel) + Math.Max(decodedSize + Skipjack.BlockSize, TrailerSize);

        public int MaximumDecodedSize(int encodedSize) =>
            Math.Max(0, encodedSize - KeaFileToken.Length(_sendLabel) - Skipjack.BlockSize);

        public byte[] Encode(ArraySegment<byte> data)
        {
            if (!_sending) throw KeaErrors.State("this data transform receives; it cannot encode");
            if (_finished) throw KeaErrors.State("the end-of-file block was already sent on this data connection");
            byte[] token = Array.Empty<byte>();
            if (!_started)
            {
                var tokenIvField = _session.NewIvField();
                var fileIvField = _session.NewIvField();
                _session.ReplayGuard.TryRecord(tokenIvField, 0, tokenIvField.Length);
                token = KeaFileToken.Build(_tek, tokenIvField, Skipjack.WrapKey(_tek, _sendKey!), _knownHash ?? new byte[KeaFileToken.HashSize],
                    fileIvField, _sendLabel);
                _cbc = new SkipjackCbcStream(_sendKey!, KeaSecurity.IvFromField(fileIvField, 0, "file IV"), encrypt: true);
                _started = true;
            }
            byte[] record;
            if (data.Count == 0)
            {
                var hash = FinishHash();
                record = SealedBlock.Seal(_cbc!, hash, 0, hash.Length);
                _finished = true;
            }
            else
            {
                _hash.BlockUpdate(data.Array!, data.Offset, data.Count);
                int pad = Skipjack.PadLength(data.Count);
                record = new byte[data.Count + pad];
                Buffer.BlockCopy(data.Array!, data.Offset, record, 0, data.Count);
                Skipjack.WritePad(record, data.Count, pad);
                _cbc!.Process(record, 0, record.Length);
            }
            return token.Length == 0 ? record : KeaBytes.Concat(token, record);
        }

        public byte[] Decode(ArraySegment<byte> token)
        {
            if (_sending) throw KeaErrors.State("this data transform sends; it cannot decode");
            if (_finished) throw KeaErrors.Security("KeaDataAfterEnd", "data arrived after the end-of-file block: it was injected");
            var buffer = token.Array!;
            int offset = token.Offset;
            int count = token.Count;
            if (!_started)
            {
                var (fileToken, length) = KeaFileToken.Parse(_tek, buffer, offset, count);
                if (!_session.ReplayGuard.TryRecord(buffer, offset, KeaSecurity.IvFieldSize))
                    throw KeaErrors.Security("KeaReplayedFile",
                        "the file token was already used in this session: an earlier transfer was replayed onto this data connection");
                _session.CheckFileLabel(fileToken.Label);
                _cbc = new SkipjackCbcStream(fileToken.FileKey, fileToken.FileIv, encrypt: false);
                _tokenHash = fileToken.Hash;
                _started = true;
                offset += length;
                count -= length;
            }
            if (count < Skipjack.BlockSize || count % Skipjack.BlockSize != 0)
                throw KeaErrors.Malformed("data block", $"{count} octets after the token is not a whole, non-empty number of 8-octet blocks");
            var plain = new byte[count];
            Buffer.BlockCopy(buffer, offset, plain, 0, count);
            _cbc!.Process(plain, 0, count);

            if (plain[count - 1] == 0) return CheckEndOfFile(plain);
            int pad = Skipjack.ReadPad(plain, 0, count);
            if (pad < 0 || pad == count)
                throw KeaErrors.Security("KeaBadPad", "a data block has an invalid pad after decryption: it was altered on the way");
            _hash.BlockUpdate(plain, 0, count - pad);
            var data = new byte[count - pad];
            Buffer.BlockCopy(plain, 0, data, 0, data.Length);
            return data;
        }

        private byte[] CheckEndOfFile(byte[] plain)
        {
            if (plain.Length != TrailerSize)
                throw KeaErrors.Security("KeaBadPad", "a data block has an invalid pad after decryption: it was altered on the way");
            var sentHash = SealedBlock.Verify(plain, plain.Length, "end-of-file block");
            var hash = FinishHash();
            if (!KeaBytes.FixedTimeEquals(sentHash, hash))
                throw KeaErrors.Security("KeaFileHashMismatch",
                    "the SHA-1 of the file received does not match the end-of-file block: file data was altered, dropped or reordered");
            if (!KeaBytes.IsZero(_tokenHash!) && !KeaBytes.FixedTimeEquals(_tokenHash!, hash))
                throw KeaErrors.Security("KeaFileHashMismatch", "the SHA-1 of the file received does not match the hash in the file token");
            _finished = true;
            return Array.Empty<byte>();
        }

        private byte[] FinishHash()
        {
            var hash = new byte[KeaFileToken.HashSize];
            _hash.DoFinal(hash, 0);
            return hash;
        }
    }
}
