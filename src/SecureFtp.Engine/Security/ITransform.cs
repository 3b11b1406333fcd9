using System;

namespace SecureFtp.Security
{
    /// <summary>The SafeTP paper's Transform (the SafeTP paper, s.5.8, Figure 5): a data transformation with size
    /// bounds known in advance, so buffers can be allocated before the first block. RFC 2228 mechanisms
    /// (X-SafeTP1, KEA-SKIPJACK) encode command-channel lines and data blocks through it.</summary>
    public interface ITransform
    {
        /// <summary>The largest token <see cref="Encode"/> can produce from <paramref name="decodedSize"/> bytes.</summary>
        int MaximumEncodedSize(int decodedSize);

        /// <summary>The largest plaintext <see cref="Decode"/> can produce from <paramref name="encodedSize"/> bytes.</summary>
        int MaximumDecodedSize(int encodedSize);

        /// <summary>Protects one block. The result is the token that goes on the wire.</summary>
        byte[] Encode(ArraySegment<byte> data);

        /// <summary>Checks and unprotects one token. Throws <see cref="FtpException"/> (kind Security)
        /// when the token was modified, replayed, reordered or echoed.</summary>
        byte[] Decode(ArraySegment<byte> token);
    }

    /// <summary>The SafeTP paper's ControlSecurity (Figure 5): a Transform that is set up by an ADAT
    /// exchange (RFC 2228 s.3). A mechanism only implements these methods; the RFC 2228 syntax
    /// (AUTH, ADAT, 334/335/235, ENC/632) is handled once, by the framework.</summary>
    public interface IControlSecurity : ITransform
    {
        bool HasOutgoingAdat { get; }
        byte[] GetNextOutgoingAdat();
        bool ExpectingIncomingAdat { get; }
        void IncomingAdat(byte[] data);

        /// <summary>True once the exchange has completed and the keys are in place.</summary>
        bool IsEstablished { get; }
    }
}
