using System.Diagnostics;

namespace SecureFtp.Tests.Infrastructure;

/// <summary>Pure-FTPd with TLS (-Y 1: AUTH TLS offered, PROT C allowed). The test login is a PureDB virtual
/// user mapped to the ftptest account, with the served root as its home, so it is chrooted there. Pure-FTPd
/// accepts CCC, and wants the client to send its close_notify after the 200 reply.</summary>
public sealed class PureFtpdFixture : FtpServerFixture
{
    public PureFtpdFixture() : base("pure-ftpd") { }

    public override PeerCapabilities Capabilities => new(FtpMechanism.Tls, AllowsClearData: true, AllowsCcc: true, RequiresTlsSessionReuse: false);

    protected override IEnumerable<string> HelperPeers => new[] { "pure-pw" };

    protected override bool HasPassivePortRange => true;

    protected override ProcessStartInfo PrepareServer(int port)
    {
        var (firstPassive, lastPassive) = PassivePortRange!.Value;
        string passwordFile = Path.Combine(WorkDirectory, "pureftpd.passwd");
        string database = Path.Combine(WorkDirectory, "pureftpd.pdb");
        if (!File.Exists(database))
            CreateVirtualUser(passwordFile, database);
        var start = new ProcessStartInfo(Peer.Require("pure-ftpd"));
        foreach (var argument in new[]
                 {
                     "--bind", $"127.0.0.1,{port}",
                     "--ipv4only",
                     "--login", $"puredb:{database}",
                     "--noanonymous",
                     "--dontresolve",
                     "--chrooteveryone",
                     "--tls", "1",
                     "--certfile", ServerCombinedPemFile,
                     "--umask", "133:022",
                     "--passiveportrange", $"{firstPassive}:{lastPassive}",
                     "--altlog", $"clf:{Path.Combine(WorkDirectory, "pure-ftpd-transfers.log")}",
                 })
            start.ArgumentList.Add(argument);
        return start;
    }

    private void CreateVirtualUser(string passwordFile, string database)
    {
        var add = new ProcessStartInfo(Peer.Require("pure-pw"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "useradd", User, "-u", PeerUser.Name, "-d", RootDirectory, "-f", passwordFile, "-m", "-F", database })
            add.ArgumentList.Add(argument);
        using var process = Process.Start(add)!;
        // pure-pw asks for the password twice.
        process.StandardInput.Write($"{Password}\n{Password}\n");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000) || process.ExitCode != 0)
            throw new InvalidOperationException($"pure-pw useradd failed: {output}");
    }
}
