using System;
using Org.BouncyCastle.Security;

namespace SecureFtp.Security.Kea
{
    /// <summary>What the two halves of KEA-SKIPJACK share once Figure 1 has run: the TEK, the MEK, the label list,
    /// the two command-channel CBC streams and their sequence numbers (RFC 2773 Figures 4 and 5). The exchange
    /// itself differs per side: <see cref="KeaClientSecurity"/> and <see cref="KeaServerSecurity"/>.
    /// Every byte is specified in docs/protocol/KEA-SKIPJACK.md.</summary>
    public abstract class KeaSecurity : IRfc2228Security
    {
        public const string Name = "KEA-SKIPJACK";

        /// <summary>RFC 2773's IV fields are 24 octets, FORTEZZA's IV layout: a 16-octet field that the cards used
        /// for the LEAF (law-enforcement access field), then the 8-octet CBC IV. We send the 16 octets as zero
        /// and refuse anything else.</summary>
        internal const int IvFieldSize = 24;
        internal const int IvFieldPrefix = 16;
        internal const int SequenceSize = 2;

        /// <summary>PBSZ bound: the largest protected block either side will accept. 65535 is the value RFC 2773
        /// Figure 4 negotiates.</summary>
        public const int MaximumProtectedBufferSize = 65535;

        private readonly object _controlLock = new object();
        private SkipjackCbcStream? _outgoing;
        private SkipjackCbcStream? _incoming;
        /// <summary>Client: the number the next command carries. Server: the number the next command must carry.</summary>
        private ushort _commandSequence;
        /// <summary>Client: the number of the last command sent, which replies must echo. Server: the number of the
        /// last command received, which replies echo.</summary>
        private ushort _replySequence;
        private bool _failed;

        internal SecureRandom Random { get; } = new SecureRandom();
        internal byte[]? Tek { get; private set; }
        internal byte[]? Mek { get; private set; }
        internal KeaReplayGuard ReplayGuard { get; } = new KeaReplayGuard();

        /// <summary>The label list agreed for the session (sent by the client in Figure 1).</summary>
        public KeaSecurityLabel SessionLabel { get; protected set; } = KeaSecurityLabel.Absent;

        internal abstract bool IsClient { get; }

        public string MechanismName => Name;

        public SecurityDetails Details { get; } = new SecurityDetails
        {
            Mechanism = Name,
            ProtocolVersion = "RFC 2773",
            Cipher = "SKIPJACK-CBC, KEA (1024/160)",
        };

        public int MaxBufferSize => MaximumProtectedBufferSize;

        /// <summary>The server half names the client's certificate; the client half checks the server's certificate
        /// during the exchange and has no login to decide.</summary>
        public virtual IAuthenticatedPeer? AuthenticatedPeer => null;

        /// <summary>Clear and Private only: RFC 2773 defines one protected form (encryption with ICV) and no
        /// integrity-only or confidentiality-only token, so PROT S and PROT E are refused.</summary>
        public bool Supports(DataProtectionLevel level) => level == DataProtectionLevel.Clear || level == DataProtectionLevel.Private;

        public bool IsEstablished { get; private set; }

        public abstract bool HasOutgoingAdat { get; }
        public abstract byte[] GetNextOutgoingAdat();
        public abstract bool ExpectingIncomingAdat { get; }
        public abstract void IncomingAdat(byte[] data);

        /// <summary>Installs the keys once Figure 1 has completed. <paramref name="clientEphemeral"/> is Ra as sent
        /// (128 octets): its least significant 16 bits start the sequence numbers. <paramref name="incoming"/> is
        /// the stream the label list was decrypted with (server) or null (client, whose first incoming token is
        /// a reply).</summary>
        private protected void Establish(byte[] tek, byte[] mek, byte[] clientEphemeral, SkipjackCbcStream outgoing, SkipjackCbcStream incoming)
        {
            Tek = tek;
            Mek = mek;
            _outgoing = outgoing;
            _incoming = incoming;
            ushort initial = (ushort)(clientEphemeral[clientEphemeral.Length - 2] << 8 | clientEphemeral[clientEphemeral.Length - 1]);
            _commandSequence = initial;
            // Replies before any protected command (a 421, say) echo the number before the first one.
            _replySequence = unchecked((ushort)(initial - 1));
            IsEstablished = true;
        }

        // ---- command channel (RFC 2773 Figures 4 and 5) ----

        public int MaximumEncodedSize(int decodedSize) => SealedBlock.SealedLength(decodedSize + 2 + SequenceSize);

        public int MaximumDecodedSize(int encodedSize) => Math.Max(0, encodedSize - Skipjack.IcvSize - 1 - SequenceSize);

        /// <summary>Protects one command (client) or reply (server): Encrypt(line || SEQ || pad || ICV). The line
        /// goes with its CRLF, which is appended when the caller passed the line without it.</summary>
        public byte[] Encode(ArraySegment<byte> data)
        {
            lock (_controlLock)
            {
                // Still allowed after an incoming failure: the outgoing chain is intact, and the server answers the
                // bad command with a protected 535 before closing.
                var outgoing = RequireEstablished(_outgoing);
                bool hasCrLf = data.Count >= 2 && data.Array![data.Offset + data.Count - 2] == '\r' && data.Array[data.Offset + data.Count - 1] == '\n';
                int lineLength = data.Count + (hasCrLf ? 0 : 2);
                var body = new byte[lineLength + SequenceSize];
                if (data.Count > 0) Buffer.BlockCopy(data.Array!, data.Offset, body, 0, data.Count);
                if (!hasCrLf) { body[lineLength - 2] = (byte)'\r'; body[lineLength - 1] = (byte)'\n'; }
                ushort sequence;
                if (IsClient)
                {
                    sequence = _commandSequence;
                    _replySequence = sequence;
                    _commandSequence = unchecked((ushort)(sequence + 1));
                }
                else sequence = _replySequence;
                body[lineLength] = (byte)(sequence >> 8);
                body[lineLength + 1] = (byte)sequence;
                return SealedBlock.Seal(outgoing, body, 0, body.Length);
            }
        }

        /// <summary>Checks and unprotects one reply (client) or command (server). Returns the line without its CRLF
        /// (which must be there: the RFC protects it too). Any failure ends the protected session: later tokens are
        /// refused, since the incoming CBC chain is no longer in step. The server's replies after a failed command
        /// carry the number that command should have had, so the client can read the 535 that ends the session.</summary>
        public byte[] Decode(ArraySegment<byte> token)
        {
            lock (_controlLock)
            {
                var incoming = RequireEstablished(_incoming);
                if (_failed) throw ClosedAfterFailure();
                try
                {
                    string what = IsClient ? "reply" : "command";
                    var body = SealedBlock.Open(incoming, token.Array!, token.Offset, token.Count, what);
                    if (body.Length < SequenceSize) throw KeaErrors.Malformed(what, "it is too short to hold a sequence number");
                    ushort sequence = (ushort)(body[body.Length - 2] << 8 | body[body.Length - 1]);
                    if (IsClient)
                    {
                        if (sequence != _replySequence)
                            throw KeaErrors.Security("KeaSequenceMismatch",
                                $"a reply carries sequence number {sequence} but answers command {_replySequence}: the reply was replayed or reordered");
                    }
                    else
                    {
                        if (sequence != _commandSequence)
                            throw KeaErrors.Security("KeaSequenceMismatch",
                                $"a command carries sequence number {sequence} but {_commandSequence} was expected: the command was replayed, dropped or reordered");
                        _replySequence = sequence;
                        _commandSequence = unchecked((ushort)(sequence + 1));
                    }
                    int lineLength = body.Length - SequenceSize - 2;
                    if (lineLength < 0 || body[lineLength] != '\r' || body[lineLength + 1] != '\n')
                        throw KeaErrors.Malformed(what, "the protected line does not end with CRLF");
                    var line = new byte[lineLength];
                    Buffer.BlockCopy(body, 0, line, 0, lineLength);
                    return line;
                }
                catch (FtpException)
                {
                    _failed = true;
                    if (!IsClient) _replySequence = _commandSequence;
                    throw;
                }
            }
        }

        // ---- data channel (RFC 2773 Figures 7 and 8) ----

        /// <summary>A fresh transform per data connection. The sender puts the file token of Figure 7 (the
        /// session MEK wrapped in the TEK) at the start of the file.</summary>
        public ITransform CreateDataTransform(DataProtectionLevel level, bool sending)
        {
            if (level != DataProtectionLevel.Private)
                throw new FtpException(FtpErrorKind.NotSupported, "KeaProtectionLevelUnsupported",
                    $"{Name}: data protection level {level} (PROT {level.ToProtCode()}) has no RFC 2773 token; use PROT P or PROT C");
            var tek = RequireEstablished(Tek);
            if (sending) return KeaDataTransform.ForSending(this, tek, RequireEstablished(Mek), SessionLabel, null);
            return KeaDataTransform.ForReceiving(this, tek);
        }

        /// <summary>Decides whether a label received in a file token is acceptable (server: its policy).</summary>
        internal virtual void CheckFileLabel(KeaSecurityLabel label) { }

        // ---- helpers shared by both sides ----

        internal byte[] NewIvField()
        {
            var field = new byte[IvFieldSize];
            var iv = new byte[Skipjack.BlockSize];
            Random.NextBytes(iv);
            Buffer.BlockCopy(iv, 0, field, IvFieldPrefix, iv.Length);
            return field;
        }

        /// <summary>The 8-octet CBC IV from a 24-octet IV field, after checking its LEAF octets are zero.</summary>
        internal static byte[] IvFromField(byte[] buffer, int offset, string what)
        {
            for (int i = 0; i < IvFieldPrefix; i++)
                if (buffer[offset + i] != 0)
                    throw KeaErrors.Malformed(what, "the first 16 octets of a 24-octet IV field must be zero");
            var iv = new byte[Skipjack.BlockSize];
            Buffer.BlockCopy(buffer, offset + IvFieldPrefix, iv, 0, iv.Length);
            return iv;
        }

        internal byte[] NewKey()
        {
            var key = new byte[Skipjack.KeySize];
            Random.NextBytes(key);
            return key;
        }

        private static T RequireEstablished<T>(T? value) where T : class =>
            value ?? throw KeaErrors.State("the security exchange has not completed yet");

        private static FtpException ClosedAfterFailure() =>
            KeaErrors.Security("KeaSessionFailed", "the protected session already failed an integrity check; it cannot continue");

        public void Dispose()
        {
            if (Tek != null) Array.Clear(Tek, 0, Tek.Length);
            if (Mek != null) Array.Clear(Mek, 0, Mek.Length);
            GC.SuppressFinalize(this);
        }
    }
}
