using System;
using System.Management.Automation;
using SecureFtp.Security;

namespace SecureFtp.PowerShell.Commands
{
    /// <summary>Set-FtpProtection: PROT (with PBSZ) for the data channel, and optionally CCC for the command channel.</summary>
    [Cmdlet(VerbsCommon.Set, "FtpProtection", SupportsShouldProcess = true)]
    [OutputType(typeof(FtpSession))]
    public sealed class SetFtpProtectionCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        public DataProtectionLevel Level { get; set; }

        /// <summary>CCC: commands travel in cleartext from now on (the data protection stays as set).</summary>
        [Parameter]
        public SwitchParameter ClearCommandChannel { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            try
            {
                if (ShouldProcess(session.ComputerName, $"Set data protection to {Level} (PROT {Level.ToProtCode()})"))
                    RunOn(session, (c, ct) => c.SetDataProtectionAsync(Level, ct));
                if (ClearCommandChannel && ShouldProcess(session.ComputerName, "Clear the command channel (CCC): commands travel unprotected"))
                    RunOn(session, (c, ct) => c.ClearCommandChannelAsync(ct));
                if (PassThru) WriteObject(session);
            }
            catch (Exception e) when (ErrorRecords.IsReportable(e))
            {
                WriteFailure(e, session);
            }
        }
    }

    /// <summary>Invoke-FtpCommand: sends a raw command and returns the server's reply (no data connection).</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "FtpCommand")]
    [OutputType(typeof(FtpReply))]
    public sealed class InvokeFtpCommandCommand : FtpSessionCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] Command { get; set; } = Array.Empty<string>();

        protected override void ProcessRecord()
        {
            var session = ResolveSession();
            foreach (var command in Command)
            {
                try { WriteObject(RunOn(session, (c, ct) => c.ExecuteAsync(command, ct))); }
                catch (Exception e) when (ErrorRecords.IsReportable(e)) { WriteFailure(e, Protocol.FtpCommand.Describe(command)); }
            }
        }
    }
}
