using System;
using System.IO;
using System.Text;
using Org.BouncyCastle.Math;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>The byte encodings of docs/protocol/X-SafeTP1.md s.2: big-endian integers, "mpi" (16-bit length and
    /// the unsigned big-endian magnitude, no leading zero byte), "str" (16-bit length and UTF-8).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
        Justification = "A MemoryStream holds no unmanaged resource; the writer is a short-lived builder ended by ToArray.")]
    internal sealed class SafeTpWriter
    {
        private readonly MemoryStream _buffer = new MemoryStream();

        public SafeTpWriter U8(byte value) { _buffer.WriteByte(value); return this; }

        public SafeTpWriter U16(int value)
        {
            if (value < 0 || value > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(value));
            _buffer.WriteByte((byte)(value >> 8));
            _buffer.WriteByte((byte)value);
            return this;
        }

        public SafeTpWriter U32(uint value)
        {
            _buffer.WriteByte((byte)(value >> 24));
            _buffer.WriteByte((byte)(value >> 16));
            _buffer.WriteByte((byte)(value >> 8));
            _buffer.WriteByte((byte)value);
            return this;
        }

        public SafeTpWriter Raw(byte[] bytes) { _buffer.Write(bytes, 0, bytes.Length); return this; }

        public SafeTpWriter Mpi(BigInteger value)
        {
            if (value.SignValue < 0) throw new ArgumentOutOfRangeException(nameof(value));
            var magnitude = value.SignValue == 0 ? Array.Empty<byte>() : value.ToByteArrayUnsigned();
            return U16(magnitude.Length).Raw(magnitude);
        }

        public SafeTpWriter Str(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            return U16(bytes.Length).Raw(bytes);
        }

        public byte[] ToArray() => _buffer.ToArray();
    }

    /// <summary>Reads what <see cref="SafeTpWriter"/> writes; every overrun or malformed field is a protocol error.</summary>
    internal sealed class SafeTpReader
    {
        private readonly byte[] _data;
        private readonly string _what;
        private int _offset;

        public SafeTpReader(byte[] data, string what) { _data = data; _what = what; }

        public int Offset => _offset;

        public byte U8() { Need(1); return _data[_offset++]; }

        public int U16() { Need(2); int v = _data[_offset] << 8 | _data[_offset + 1]; _offset += 2; return v; }

        public uint U32()
        {
            Need(4);
            uint v = (uint)(_data[_offset] << 24 | _data[_offset + 1] << 16 | _data[_offset + 2] << 8 | _data[_offset + 3]);
            _offset += 4;
            return v;
        }

        public byte[] Raw(int length)
        {
            Need(length);
            var result = new byte[length];
            Buffer.BlockCopy(_data, _offset, result, 0, length);
            _offset += length;
            return result;
        }

        public BigInteger Mpi()
        {
            var magnitude = Raw(U16());
            if (magnitude.Length > 0 && magnitude[0] == 0) throw Bad("an integer with a leading zero byte");
            return new BigInteger(1, magnitude);
        }

        public string Str()
        {
            var bytes = Raw(U16());
            try { return new UTF8Encoding(false, true).GetString(bytes); }
            catch (ArgumentException) { throw Bad("text that is not UTF-8"); }
        }

        public void End()
        {
            if (_offset != _data.Length) throw Bad($"{_data.Length - _offset} unexpected trailing bytes");
        }

        private void Need(int n)
        {
            if (n < 0 || _data.Length - _offset < n) throw Bad("a field that runs past the end");
        }

        public FtpException Bad(string problem) => new FtpException(FtpErrorKind.Security, "SafeTpMalformed", $"The X-SafeTP1 {_what} is malformed: {problem}.");
    }
}
