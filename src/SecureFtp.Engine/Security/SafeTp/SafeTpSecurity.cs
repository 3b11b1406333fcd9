using System;
using Org.BouncyCastle.Security;

namespace SecureFtp.Security.SafeTp
{
    /// <summary>What both halves of X-SafeTP1 share once the master key is known: the control-channel transform with
    /// its per-direction sequence numbers (spec s.5.2) and the data transforms (s.5.3).</summary>
    internal abstract class SafeTpSecurity : IRfc2228Security
    {
        public const string Name = "X-SafeTP1";

        /// <summary>Largest PBSZ (encoded block size): the paper's blocks are "between 4 kb and 128 kb" (s.5.4).</summary>
        public const int MaxBlockSize = 128 * 1024;

        protected const int ControlHeaderLength = 8;
        protected const int DataHeaderLength = 12;

        private readonly bool _isServer;
        private SafeTpDirectionKeys? _sendKeys;
        private SafeTpDirectionKeys? _receiveKeys;
        private SafeTpBlockCipher? _controlSend;
        private SafeTpBlockCipher? _controlReceive;
        private uint _sendSequence;
        private uint _receiveSequence;
        private readonly SafeTpFileCounters _files = new SafeTpFileCounters();
        private readonly SafeTpSessionState _state = new SafeTpSessionState();
        private readonly object _controlSendGate = new object();
        private readonly object _controlReceiveGate = new object();

        protected SafeTpSecurity(bool isServer)
        {
            _isServer = isServer;
            Details = new SecurityDetails { Mechanism = Name, ProtocolVersion = "X-SafeTP1", Cipher = "3DES-EDE-CBC/HMAC-SHA1" };
        }

        protected static SecureRandom Random => SafeTpKeys.Random;

        /// <summary>The key usage limit of each direction key, in 64-bit cipher blocks (<see cref="SafeTpDirectionKeys.DefaultBlockLimit"/>).
        /// Tests lower it; set before the exchange completes.</summary>
        internal long KeyBlockLimit { get; set; } = SafeTpDirectionKeys.DefaultBlockLimit;

        /// <summary>Why the session ended (a block failed its check, a data block was refused), or null while it lives.</summary>
        internal string? EndedBecause => _state.EndedBecause;

        public string MechanismName => Name;
        public SecurityDetails Details { get; }
        public int MaxBufferSize => MaxBlockSize;

        /// <summary>X-SafeTP1 authenticates the server only (the SafeTP paper, section 5.3): the password decides the login.</summary>
        public IAuthenticatedPeer? AuthenticatedPeer => null;

        public abstract bool HasOutgoingAdat { get; }
        public abstract byte[] GetNextOutgoingAdat();
        public abstract bool ExpectingIncomingAdat { get; }
        public abstract void IncomingAdat(byte[] data);
        public abstract bool IsEstablished { get; }

        /// <summary>PROT C and P: X-SafeTP1 always encrypts and authenticates; S and E are not offered.</summary>
        public bool Supports(DataProtectionLevel level) => level is DataProtectionLevel.Clear or DataProtectionLevel.Private;

        protected SafeTpFlags OwnFlag => _isServer ? SafeTpFlags.FromServer : SafeTpFlags.None;
        protected SafeTpFlags PeerFlag => _isServer ? SafeTpFlags.None : SafeTpFlags.FromServer;

        /// <summary>Installs the session keys derived from the master key; the handshake block is sequence 0.</summary>
        protected void InstallKeys(byte[] masterKey)
        {
            _sendKeys = SafeTpDirectionKeys.Derive(masterKey, clientToServer: !_isServer, KeyBlockLimit);
            _receiveKeys = SafeTpDirectionKeys.Derive(masterKey, clientToServer: _isServer, KeyBlockLimit);
            _controlSend = new SafeTpBlockCipher(_sendKeys, Random);
            _controlReceive = new SafeTpBlockCipher(_receiveKeys, Random);
        }

        /// <summary>Seals a control block (ENC command, 632 reply line, or the handshake block).</summary>
        protected byte[] SealControl(ArraySegment<byte> payload, SafeTpFlags extra)
        {
            lock (_controlSendGate)
            {
                if (_controlSend == null) throw NotEstablished();
                _state.ThrowIfEnded(sending: true);
                if (_sendSequence == uint.MaxValue) throw new FtpException(FtpErrorKind.Security, "SequenceExhausted", "The X-SafeTP1 control sequence numbers are used up; reconnect.");
                var header = new SafeTpWriter().U32(_sendSequence++).U32((uint)(OwnFlag | extra)).ToArray();
                return _controlSend.Seal(header, payload);
            }
        }

        /// <summary>Opens a control block and checks, in order: keys and integrity, then the flags (echo), then the
        /// sequence number (replay, reordering, deletion).</summary>
        protected byte[] OpenControl(ArraySegment<byte> token, SafeTpFlags extra)
        {
            lock (_controlReceiveGate)
            {
                if (_controlReceive == null) throw NotEstablished();
                _state.ThrowIfEnded(sending: false);
                byte[] content;
                try
                {
                    content = _controlReceive.Open(token, ControlHeaderLength);
                }
                catch (FtpException e)
                {
                    // A control block that fails its check ends what this side accepts: nothing more is read under
                    // these keys (no second guess for a padding or MAC oracle). Sending stays possible, so the server
                    // can still answer 535 before it closes (X-SafeTP1.md s.6.2).
                    _state.End(e.Message, sendingToo: false);
                    throw;
                }
                var r = new SafeTpReader(content, "control block");
                uint sequence = r.U32();
                var flags = (SafeTpFlags)r.U32();
                CheckFlags(flags, PeerFlag | extra, "control");
                if (sequence != _receiveSequence)
                    throw new FtpException(FtpErrorKind.Security, "ControlBlockReplayed",
                        $"An X-SafeTP1 control block arrived with sequence number {sequence} where {_receiveSequence} was due: it was replayed, reordered or one was deleted on the way.");
                _receiveSequence++;
                var payload = new byte[content.Length - ControlHeaderLength];
                Buffer.BlockCopy(content, ControlHeaderLength, payload, 0, payload.Length);
                return payload;
            }
        }

        internal static void CheckFlags(SafeTpFlags actual, SafeTpFlags expected, string kind)
        {
            if (actual == expected) return;
            if ((actual & SafeTpFlags.FromServer) != (expected & SafeTpFlags.FromServer))
                throw new FtpException(FtpErrorKind.Security, "EchoedBlock",
                    $"An X-SafeTP1 {kind} block carries the flags of the wrong sender: a block this side sent was reflected back (echo replay).");
            throw new FtpException(FtpErrorKind.Security, "WrongBlockKind",
                $"An X-SafeTP1 block of kind {actual} arrived where a {kind} block ({expected}) was due.");
        }

        // ---- ITransform for the control channel (the paper's ControlSecurity is itself a Transform) ----
        public int MaximumEncodedSize(int decodedSize) => SafeTpBlockCipher.SealedSize(ControlHeaderLength, decodedSize);
        public int MaximumDecodedSize(int encodedSize) => SafeTpBlockCipher.MaxPayload(ControlHeaderLength, encodedSize);
        public byte[] Encode(ArraySegment<byte> data) => SealControl(data, SafeTpFlags.None);
        public byte[] Decode(ArraySegment<byte> token) => OpenControl(token, SafeTpFlags.None);

        public ITransform CreateDataTransform(DataProtectionLevel level, bool sending)
        {
            if (level != DataProtectionLevel.Private)
                throw new FtpException(FtpErrorKind.Policy, "ProtectionLevelNotSupported", $"X-SafeTP1 protects data with PROT P only, not PROT {level.ToProtCode()}.");
            if (_sendKeys == null || _receiveKeys == null) throw NotEstablished();
            _state.ThrowIfEnded(sending);
            return sending
                ? SafeTpDataTransform.ForSending(new SafeTpBlockCipher(_sendKeys, Random, forData: true), OwnFlag, _files, _state)
                : SafeTpDataTransform.ForReceiving(new SafeTpBlockCipher(_receiveKeys, Random, forData: true), PeerFlag, _files, _state);
        }

        private static FtpException NotEstablished() => new FtpException(FtpErrorKind.Security, "SafeTpNotEstablished", "The X-SafeTP1 exchange has not completed; nothing can be protected yet.");

        public virtual void Dispose()
        {
            if (_sendKeys != null) { Array.Clear(_sendKeys.CipherKey, 0, 24); Array.Clear(_sendKeys.MacKey, 0, 20); }
            if (_receiveKeys != null) { Array.Clear(_receiveKeys.CipherKey, 0, 24); Array.Clear(_receiveKeys.MacKey, 0, 20); }
        }
    }

    /// <summary>Whether the protected session still lives. A data block that fails (its check, its numbers, its
    /// flags) ends it in both directions: every later block, command or reply under these keys is refused, so the
    /// session is over and the client must reconnect (fresh master key). A control block that fails ends what this
    /// side receives. This is what makes a padding or MAC oracle worthless: one guess per session, never a second one
    /// under the same keys (X-SafeTP1.md s.6.1).</summary>
    internal sealed class SafeTpSessionState
    {
        private volatile string? _endedBecause;
        private volatile bool _sendingEnded;

        public string? EndedBecause => _endedBecause;

        public void End(string why, bool sendingToo)
        {
            if (_endedBecause == null) _endedBecause = why;
            if (sendingToo) _sendingEnded = true;
        }

        public void ThrowIfEnded(bool sending)
        {
            var why = _endedBecause;
            if (why == null || (sending && !_sendingEnded)) return;
            throw new FtpException(FtpErrorKind.Security, "SafeTpSessionEnded",
                $"The X-SafeTP1 session has ended: a protected block failed its check earlier ({why}). Nothing more is {(sending ? "sent" : "accepted")} under its keys; reconnect.");
        }
    }

    /// <summary>File sequence numbers of one session (spec s.5.3): the last file number sent and the highest
    /// received, so that a whole earlier transfer cannot be played again (file replay, the SafeTP paper, s.5.6).</summary>
    internal sealed class SafeTpFileCounters
    {
        private readonly object _gate = new object();
        private uint _lastSent;
        private uint _lastReceived;

        public uint NextToSend()
        {
            lock (_gate)
            {
                if (_lastSent == uint.MaxValue) throw new FtpException(FtpErrorKind.Security, "SequenceExhausted", "The X-SafeTP1 file sequence numbers are used up; reconnect.");
                return ++_lastSent;
            }
        }

        /// <summary>Accepts a file number only when it is above every file number received before.</summary>
        public void AcceptReceived(uint file)
        {
            lock (_gate)
            {
                if (file <= _lastReceived)
                    throw new FtpException(FtpErrorKind.Security, "FileReplayed",
                        $"An X-SafeTP1 data connection carries file number {file}, but file {_lastReceived} was already received: an earlier transfer is being played again.");
                _lastReceived = file;
            }
        }
    }

    /// <summary>One data connection's transform (spec s.5.3): header u32 file number, u32 block number, u32 flags;
    /// the end of file is a block with no data and the EndOfFile flag.</summary>
    internal sealed class SafeTpDataTransform : ITransform
    {
        private const int HeaderLength = 12;
        private readonly SafeTpBlockCipher _cipher;
        private readonly SafeTpFlags _senderFlag;
        private readonly SafeTpFileCounters _files;
        private readonly SafeTpSessionState _session;
        private readonly bool _sending;
        private uint _file;
        private uint _block;
        private bool _ended;

        private SafeTpDataTransform(SafeTpBlockCipher cipher, SafeTpFlags senderFlag, SafeTpFileCounters files, SafeTpSessionState session, bool sending)
        {
            _cipher = cipher; _senderFlag = senderFlag; _files = files; _session = session; _sending = sending;
        }

        public static SafeTpDataTransform ForSending(SafeTpBlockCipher cipher, SafeTpFlags ownFlag, SafeTpFileCounters files, SafeTpSessionState session)
            => new SafeTpDataTransform(cipher, ownFlag, files, session, true) { _file = files.NextToSend() };

        public static SafeTpDataTransform ForReceiving(SafeTpBlockCipher cipher, SafeTpFlags peerFlag, SafeTpFileCounters files, SafeTpSessionState session)
            => new SafeTpDataTransform(cipher, peerFlag, files, session, false);

        public int MaximumEncodedSize(int decodedSize) => SafeTpBlockCipher.SealedSize(HeaderLength, decodedSize);
        public int MaximumDecodedSize(int encodedSize) => SafeTpBlockCipher.MaxPayload(HeaderLength, encodedSize);

        public byte[] Encode(ArraySegment<byte> data)
        {
            if (!_sending) throw new InvalidOperationException("This data transform receives.");
            if (_ended) throw new InvalidOperationException("The end-of-file block was already sent.");
            _session.ThrowIfEnded(sending: true);
            if (_block == uint.MaxValue) throw new FtpException(FtpErrorKind.Security, "SequenceExhausted", "The X-SafeTP1 block numbers of this file are used up.");
            var flags = _senderFlag | SafeTpFlags.Data | (data.Count == 0 ? SafeTpFlags.EndOfFile : SafeTpFlags.None);
            var header = new SafeTpWriter().U32(_file).U32(_block++).U32((uint)flags).ToArray();
            if (data.Count == 0) _ended = true;
            return _cipher.Seal(header, data);
        }

        public byte[] Decode(ArraySegment<byte> token)
        {
            if (_sending) throw new InvalidOperationException("This data transform sends.");
            _session.ThrowIfEnded(sending: false);
            try
            {
                return DecodeBlock(token);
            }
            catch (FtpException e) when (e.Kind == FtpErrorKind.Security && e.ErrorId != "KeyUsageLimitReached")
            {
                // Any failed data block ends the session in both directions (see SafeTpSessionState): the error
                // the caller sees is the block's own, later calls get SafeTpSessionEnded.
                _session.End(e.Message, sendingToo: true);
                throw;
            }
        }

        private byte[] DecodeBlock(ArraySegment<byte> token)
        {
            if (_ended)
                throw new FtpException(FtpErrorKind.Security, "DataAfterEndOfFile", "An X-SafeTP1 data block arrived after the end-of-file block.");
            var content = _cipher.Open(token, HeaderLength);
            var r = new SafeTpReader(content, "data block");
            uint file = r.U32(), block = r.U32();
            var flags = (SafeTpFlags)r.U32();
            int length = content.Length - HeaderLength;
            SafeTpSecurity.CheckFlags(flags, _senderFlag | SafeTpFlags.Data | (length == 0 ? SafeTpFlags.EndOfFile : SafeTpFlags.None), "data");
            if (_block == 0)
            {
                if (block != 0)
                    throw new FtpException(FtpErrorKind.Security, "DataBlockReplayed", $"An X-SafeTP1 data connection started with block {block} instead of block 0: blocks were dropped or replayed.");
                _files.AcceptReceived(file);
                _file = file;
            }
            else if (file != _file)
                throw new FtpException(FtpErrorKind.Security, "FileReplayed", $"An X-SafeTP1 data block of file {file} arrived inside file {_file}: blocks of another transfer were spliced in.");
            else if (block != _block)
                throw new FtpException(FtpErrorKind.Security, "DataBlockReplayed",
                    $"An X-SafeTP1 data block arrived with number {block} where {_block} was due: it was replayed, reordered or one was deleted on the way.");
            _block++;
            if (length == 0) _ended = true;
            var payload = new byte[length];
            Buffer.BlockCopy(content, HeaderLength, payload, 0, length);
            return payload;
        }
    }
}
