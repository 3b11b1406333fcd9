using System.Net;
using System.Security.Cryptography;
using SecureFtp.Sync;
using SecureFtp.Tests.Server;

namespace SecureFtp.Tests.Sync;

/// <summary>What the sync tests share: a plan run whole (every action approved), and tree comparisons.</summary>
internal static class SyncKit
{
    /// <summary>Plans and runs every action, as Sync-FtpDirectory without -WhatIf does; returns every action in
    /// its final state (planned Skip/Error ones, and the done or failed transfers and deletes).</summary>
    public static async Task<SyncResult> SyncAsync(FtpClient client, SyncOptions options, CancellationToken ct = default)
    {
        var plan = await SyncPlanner.PlanAsync(client, options, ct);
        var done = new List<SyncAction>();
        var runner = new SyncRunner(plan, a => { lock (done) done.Add(a); });
        var work = plan.Actions.Where(a => a.Action is SyncActionType.Download or SyncActionType.Upload or SyncActionType.Delete).ToList();
        await runner.RunAsync(client, work, ct);
        var all = plan.Actions.Where(a => !work.Contains(a)).Concat(done).ToList();
        return new SyncResult(all, runner.ExtraSessionsOpened);
    }

    /// <summary>Relative path (with '/') -> SHA-256 of every file under <paramref name="root"/>.</summary>
    public static SortedDictionary<string, string> Tree(string root)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            tree[Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/')] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        return tree;
    }

    public static void WriteRandom(string path, int length)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(length));
    }

    /// <summary>AUTH TLS to the embedded server, certificate pinned.</summary>
    public static FtpClientOptions EmbeddedOptions(RunningServer server)
    {
        var options = new FtpClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Credential = new NetworkCredential(RunningServer.UserName, RunningServer.Password),
            Mechanisms = new List<FtpMechanism> { FtpMechanism.Tls },
        };
        options.PinnedFingerprints.Add(server.Server.Options.Certificate!.GetCertHashString(HashAlgorithmName.SHA256));
        return options;
    }
}

internal sealed record SyncResult(List<SyncAction> Actions, int ExtraSessions)
{
    public IEnumerable<SyncAction> Of(SyncActionType type) => Actions.Where(a => a.Action == type);
    public int Transfers => Actions.Count(a => a.Action is SyncActionType.Download or SyncActionType.Upload);
    public IEnumerable<string> Paths(SyncActionType type) => Of(type).Select(a => a.Path).Order(StringComparer.Ordinal);
}
