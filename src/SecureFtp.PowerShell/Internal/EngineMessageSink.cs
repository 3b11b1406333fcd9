namespace SecureFtp.PowerShell
{
    /// <summary>The engine keeps the callbacks it was connected with for the whole session, but the cmdlet that
    /// can write them changes with every command. The session's sink points at the cmdlet using it right now.</summary>
    internal sealed class EngineMessageSink
    {
        private volatile SecureFtpCmdlet? _target;

        public EngineMessageSink(SecureFtpCmdlet target) { _target = target; }

        public SecureFtpCmdlet? Target
        {
            get => _target;
            set => _target = value;
        }

        // Engine messages quote server replies, names and listing lines: shown without the terminal escape sequences
        // a hostile server may have put in them.
        public void Warning(string message) => _target?.Post(c => c.WriteWarning(FtpException.Displayable(message)));
        public void Verbose(string message) => _target?.Post(c => c.WriteVerbose(FtpException.Displayable(message)));
        public void Trace(bool sent, string line) => _target?.Post(c => c.WriteDebug((sent ? "> " : "< ") + FtpException.Displayable(line)));

        /// <summary>Asks the user (ShouldContinue) whether to trust a server key seen for the first time.
        /// With no cmdlet to ask, the key is not trusted.</summary>
        public bool ConfirmNewKey(string host, string fingerprint)
        {
            var target = _target;
            return target != null && target.Ask(
                $"The server {host} presented a key that is not in the trust store. Fingerprint (SHA-256): {fingerprint}. Trust it and remember it?",
                "Unknown server key");
        }
    }
}
