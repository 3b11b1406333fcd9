using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Utilities.IO.Pem;

namespace SecureFtp.Security.Kea
{
    /// <summary>The local storage key of RFC 2773 s.2.1: the 80-bit SKIPJACK key a server wraps the FEKs of its
    /// pre-encrypted files in. Saved owner-only as PEM.</summary>
    public sealed class KeaStorageKey
    {
        private const string PemType = "SECUREFTP SKIPJACK STORAGE KEY";
        internal byte[] Key { get; }

        private KeaStorageKey(byte[] key) { Key = key; }

        public static KeaStorageKey Generate()
        {
            var key = new byte[Skipjack.KeySize];
            new SecureRandom().NextBytes(key);
            return new KeaStorageKey(key);
        }

        public void Save(string path) => KeaFiles.WriteOwnerOnly(path, KeaFiles.ToPem(new[] { new PemObject(PemType, Key) }));

        public static KeaStorageKey Load(string path)
        {
            var block = KeaFiles.ReadPem(path).FirstOrDefault(b => b.Type == PemType);
            if (block == null || block.Content.Length != Skipjack.KeySize)
                throw new FtpException(FtpErrorKind.LocalIo, "KeaStorageKeyUnreadable", $"{KeaErrors.Mechanism}: {path} holds no 80-bit storage key");
            return new KeaStorageKey(block.Content);
        }
    }

    /// <summary>Files stored pre-encrypted under a file encryption key (FEK), sent with the FEK token of
    /// RFC 2773 Figure 8. The stored form (docs/protocol/KEA-SKIPJACK.md s.8) holds the FEK wrapped in the
    /// storage key, the file IV, the SHA-1 of the plaintext, the label, and the file's records already
    /// encrypted exactly as they go on the wire, so sending one never decrypts it.</summary>
    public static class KeaPreEncryptedFile
    {
        /// <summary>Plaintext octets per stored record: one record becomes one protected buffer, so a stored file
        /// needs a PBSZ of at least RecordSize + 8 plus the token (under the 65535 both sides offer).</summary>
        public const int RecordSize = 16384;
        private static readonly byte[] Magic = { (byte)'S', (byte)'F', (byte)'K', (byte)'E', (byte)'A', (byte)'F', (byte)'E', (byte)'1' };
        private const int HashOffset = 8 + Skipjack.WrappedKeySize + KeaSecurity.IvFieldSize;

        /// <summary>Encrypts <paramref name="plaintext"/> under a fresh FEK into <paramref name="stored"/>, which
        /// must be seekable (the hash of the whole file goes in the header, written last).</summary>
        public static void Encrypt(Stream plaintext, Stream stored, KeaStorageKey storageKey, KeaSecurityLabel? label = null)
        {
            if (!stored.CanSeek) throw new ArgumentException("The stored file must be seekable.", nameof(stored));
            label ??= KeaSecurityLabel.Absent;
            var random = new SecureRandom();
            var fek = new byte[Skipjack.KeySize];
            random.NextBytes(fek);
            var ivField = new byte[KeaSecurity.IvFieldSize];
            var iv = new byte[Skipjack.BlockSize];
            random.NextBytes(iv);
            Buffer.BlockCopy(iv, 0, ivField, KeaSecurity.IvFieldPrefix, iv.Length);

            long start = stored.Position;
            var labelOctets = new byte[KeaSecurityLabel.HeaderSize + label.Length];
            label.WriteTo(labelOctets, 0);
            Write(stored, Magic);
            Write(stored, Skipjack.WrapKey(storageKey.Key, fek));
            Write(stored, ivField);
            Write(stored, new byte[KeaFileToken.HashSize]);
            Write(stored, labelOctets);

            var cbc = new SkipjackCbcStream(fek, iv, encrypt: true);
            var sha1 = new Sha1Digest();
            var chunk = new byte[RecordSize];
            int read;
            while ((read = ReadFull(plaintext, chunk)) > 0)
            {
                sha1.BlockUpdate(chunk, 0, read);
                int pad = Skipjack.PadLength(read);
                var record = new byte[read + pad];
                Buffer.BlockCopy(chunk, 0, record, 0, read);
                Skipjack.WritePad(record, read, pad);
                cbc.Process(record, 0, record.Length);
                WriteRecord(stored, record);
            }
            var hash = new byte[KeaFileToken.HashSize];
            sha1.DoFinal(hash, 0);
            WriteRecord(stored, SealedBlock.Seal(cbc, hash, 0, hash.Length));
            long end = stored.Position;
            stored.Position = start + HashOffset;
            Write(stored, hash);
            stored.Position = end;
            Array.Clear(fek, 0, fek.Length);
        }

        /// <summary>The protected buffers for sending a stored file: the first is the FEK token of Figure 8 (the FEK
        /// unwrapped from the storage key and wrapped again in the session TEK) followed by the first record;
        /// the last is the end-of-file block. Each is what <see cref="ITransform.Encode"/> would have produced.</summary>
        public static IEnumerable<byte[]> ProtectedBuffers(KeaSecurity session, Stream stored, KeaStorageKey storageKey)
        {
            var tek = session.Tek ?? throw KeaErrors.State("the security exchange has not completed yet");
            var header = new byte[HashOffset + KeaFileToken.HashSize + KeaSecurityLabel.HeaderSize];
            if (ReadFull(stored, header) != header.Length || !header.Take(8).SequenceEqual(Magic))
                throw new FtpException(FtpErrorKind.LocalIo, "KeaStoredFileUnreadable", $"{KeaErrors.Mechanism}: not a pre-encrypted file (bad header)");
            var fek = Skipjack.UnwrapKey(storageKey.Key, header, 8)
                ?? throw new FtpException(FtpErrorKind.LocalIo, "KeaStorageKeyMismatch",
                    $"{KeaErrors.Mechanism}: the pre-encrypted file's FEK does not unwrap under this storage key");
            var ivField = header.Skip(8 + Skipjack.WrappedKeySize).Take(KeaSecurity.IvFieldSize).ToArray();
            var hash = header.Skip(HashOffset).Take(KeaFileToken.HashSize).ToArray();
            int labelAt = HashOffset + KeaFileToken.HashSize;
            int labelLength = header[labelAt + 1] << 24 | header[labelAt + 2] << 16 | header[labelAt + 3] << 8 | header[labelAt + 4];
            if (labelLength < 0 || labelLength > KeaSecurityLabel.MaxLength)
                throw new FtpException(FtpErrorKind.LocalIo, "KeaStoredFileUnreadable", $"{KeaErrors.Mechanism}: the stored label length {labelLength} is out of range");
            var labelOctets = new byte[KeaSecurityLabel.HeaderSize + labelLength];
            Buffer.BlockCopy(header, labelAt, labelOctets, 0, KeaSecurityLabel.HeaderSize);
            if (ReadFull(stored, labelOctets, KeaSecurityLabel.HeaderSize) != labelLength)
                throw new FtpException(FtpErrorKind.LocalIo, "KeaStoredFileUnreadable", $"{KeaErrors.Mechanism}: the stored label is truncated");
            var label = KeaSecurityLabel.Read(labelOctets, 0, labelOctets.Length, "stored file label");

            var tokenIvField = session.NewIvField();
            session.ReplayGuard.TryRecord(tokenIvField, 0, tokenIvField.Length);
            var token = KeaFileToken.Build(tek, tokenIvField, Skipjack.WrapKey(tek, fek), hash, ivField, label);
            Array.Clear(fek, 0, fek.Length);
            return Records(stored, token);
        }

        private static IEnumerable<byte[]> Records(Stream stored, byte[] token)
        {
            bool first = true;
            var lengthOctets = new byte[4];
            while (ReadFull(stored, lengthOctets) == 4)
            {
                int length = lengthOctets[0] << 24 | lengthOctets[1] << 16 | lengthOctets[2] << 8 | lengthOctets[3];
                if (length <= 0 || length > RecordSize + Skipjack.BlockSize || length % Skipjack.BlockSize != 0)
                    throw new FtpException(FtpErrorKind.LocalIo, "KeaStoredFileUnreadable", $"{KeaErrors.Mechanism}: a stored record has the impossible length {length}");
                var record = new byte[length];
                if (ReadFull(stored, record) != length)
                    throw new FtpException(FtpErrorKind.LocalIo, "KeaStoredFileUnreadable", $"{KeaErrors.Mechanism}: the pre-encrypted file is truncated");
                yield return first ? KeaBytes.Concat(token, record) : record;
                first = false;
            }
        }

        private static void WriteRecord(Stream stream, byte[] record)
        {
            Write(stream, new[] { (byte)(record.Length >> 24), (byte)(record.Length >> 16), (byte)(record.Length >> 8), (byte)record.Length });
            Write(stream, record);
        }

        private static void Write(Stream stream, byte[] data) => stream.Write(data, 0, data.Length);

        private static int ReadFull(Stream stream, byte[] buffer, int offset = 0)
        {
            int total = 0;
            while (offset + total < buffer.Length)
            {
                int read = stream.Read(buffer, offset + total, buffer.Length - offset - total);
                if (read == 0) break;
                total += read;
            }
            return total;
        }
    }
}
