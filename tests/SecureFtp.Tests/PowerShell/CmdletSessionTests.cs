using System.Management.Automation;
using SecureFtp.Tests.Infrastructure;
using Xunit;

namespace SecureFtp.Tests.PowerShell;

/// <summary>The cmdlets, run through the hosted PowerShell engine against a real vsftpd with explicit TLS
/// (require_ssl_reuse=YES), its certificate pinned by thumbprint.</summary>
public sealed class CmdletSessionTests(VsftpdFixture server) : IClassFixture<VsftpdFixture>, IDisposable
{
    private readonly string _local = Directory.CreateTempSubdirectory("secureftp-ps-").FullName;

    public void Dispose() => Directory.Delete(_local, recursive: true);

    internal static PSCredential Credential(string user, string password)
    {
        var secure = new System.Security.SecureString();
        foreach (char c in password) secure.AppendChar(c);
        return new PSCredential(user, secure);
    }

    /// <summary>A runspace with the module imported and a session to the server as the current session.</summary>
    private HostedPowerShell Connected()
    {
        server.Require();
        var ps = new HostedPowerShell();
        ps.Run("""
            $null = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism Tls -CertificateThumbprint $thumbprint
            $null = $ExecutionContext.SessionState.Path.SetLocation($local)
            """, ("credential", Credential(server.User, server.Password)), ("hostName", server.Host), ("port", server.Port), ("thumbprint", server.CertificateThumbprint), ("local", _local)).ThrowOnError();
        return ps;
    }

    [SkippableFact]
    public void Connect_returns_a_session_that_becomes_current_and_Disconnect_closes_it()
    {
        using var ps = Connected();
        var session = ps.Run("Get-SecureFtpSession -Current").ThrowOnError().Single();
        var shown = PSObject.AsPSObject(session);
        Assert.Equal(server.Host, shown.Properties["ComputerName"].Value);
        Assert.Equal(server.Port, shown.Properties["Port"].Value);
        Assert.Equal("TLS", shown.Properties["Mechanism"].Value);
        Assert.False(string.IsNullOrEmpty(shown.Properties["ProtocolVersion"].Value as string));
        Assert.False(string.IsNullOrEmpty(shown.Properties["Cipher"].Value as string));
        Assert.False(string.IsNullOrEmpty(shown.Properties["PeerFingerprint"].Value as string));
        Assert.Equal("Private", shown.Properties["DataProtection"].Value!.ToString());
        Assert.Equal(true, shown.Properties["CommandChannelProtected"].Value);
        Assert.Equal(true, shown.Properties["IsConnected"].Value);
        Assert.Equal(server.User, shown.Properties["UserName"].Value);

        var after = ps.Run("Get-SecureFtpSession -Current | Disconnect-SecureFtp; @(Get-SecureFtpSession).Count").ThrowOnError().Single();
        Assert.Equal(0, after);
        var noSession = ps.Run("Get-FtpChildItem");
        Assert.Contains("NoSession,SecureFtp.PowerShell.Commands.GetFtpChildItemCommand", noSession.ErrorIds);
    }

    [SkippableFact]
    public void NoPipelining_makes_the_session_wait_for_each_reply_and_transfers_still_work()
    {
        using var ps = Connected();
        Assert.Equal(true, ps.Run("(Get-SecureFtpSession -Current).Client.Options.PipelineCommands").ThrowOnError().Single());
        var file = server.CreateFile("sync-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 2345);
        var result = ps.Run("""
            $session = Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism Tls -CertificateThumbprint $thumbprint -NoPipelining
            $session.Client.Options.PipelineCommands
            Receive-FtpFile -Session $session -Path $remote -Destination sync.bin
            """, ("credential", Credential(server.User, server.Password)), ("hostName", server.Host), ("port", server.Port),
            ("thumbprint", server.CertificateThumbprint), ("remote", file.RemotePath)).ThrowOnError();
        Assert.Equal(false, result.Single());
        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "sync.bin")));
    }

    [SkippableFact]
    public void Wrong_password_is_a_SecurityError_with_an_id_and_no_session()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        var result = ps.Run("""
            Connect-SecureFtp -ComputerName $hostName -Port $port -Credential $credential -Mechanism Tls -CertificateThumbprint $thumbprint
            """, ("credential", Credential(server.User, "not-the-password")), ("hostName", server.Host), ("port", server.Port), ("thumbprint", server.CertificateThumbprint));
        Assert.Empty(result.Output);
        var error = Assert.Single(result.Errors, e => e.FullyQualifiedErrorId.StartsWith("LoginRefused", StringComparison.Ordinal));
        Assert.Equal("LoginRefused,SecureFtp.PowerShell.Commands.ConnectSecureFtpCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.DoesNotContain("not-the-password", error.ToString());
        Assert.Empty(ps.Run("Get-SecureFtpSession").Output);
    }

    [SkippableFact]
    public void A_wrong_pin_is_a_SecurityError_naming_host_and_fingerprint_and_SkipCertificateCheck_warns()
    {
        server.Require();
        using var ps = new HostedPowerShell();
        var credential = Credential(server.User, server.Password);
        var refused = ps.Run("Connect-SecureFtp -ComputerName $h -Port $p -Credential $c -Mechanism Tls -CertificateThumbprint ('00' * 32)",
            ("h", server.Host), ("p", server.Port), ("c", credential));
        Assert.Empty(refused.Output);
        var error = Assert.Single(refused.Errors);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.Contains(server.Host, error.ToString());
        Assert.Contains(server.CertificateThumbprint!.Substring(0, 8), error.ToString().Replace(":", ""), StringComparison.OrdinalIgnoreCase);

        var skipped = ps.Run("(Connect-SecureFtp -ComputerName $h -Port $p -Credential $c -Mechanism Tls -SkipCertificateCheck).TrustSource",
            ("h", server.Host), ("p", server.Port), ("c", credential)).ThrowOnError();
        Assert.Equal("Skipped", skipped.Single());
        Assert.NotEmpty(skipped.Warnings);
    }

    [SkippableFact]
    public void Recursive_listing_piped_to_Receive_keeps_the_remote_tree()
    {
        using var ps = Connected();
        string root = "tree-" + Guid.NewGuid().ToString("N")[..8];
        var files = new[] { $"{root}/a.bin", $"{root}/sub/b.bin", $"{root}/sub/deeper/c.bin" }
            .Select((p, i) => server.CreateFile(p, 1000 * (i + 1))).ToList();
        Directory.CreateDirectory(server.LocalPath($"{root}/empty"));
        PeerUser.GiveOwnership(server.LocalPath($"{root}/empty"));

        var result = ps.Run("Get-FtpChildItem -Path $remote -Recurse | Receive-FtpFile -Destination download",
            ("remote", server.RemotePath(root))).ThrowOnError();
        Assert.Empty(result.Output);
        foreach (var file in files)
        {
            string relative = file.RemotePath.Substring(server.RemotePath(root).Length + 1);
            string local = Path.Combine(_local, "download", relative);
            Assert.True(File.Exists(local), $"{relative} was not downloaded to its place in the tree");
            Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(local));
        }
        Assert.True(Directory.Exists(Path.Combine(_local, "download", "empty")));
        Assert.Empty(Directory.GetFiles(_local, "*.part", SearchOption.AllDirectories));
    }

    [SkippableFact]
    public void Listing_items_carry_what_the_next_cmdlet_needs()
    {
        using var ps = Connected();
        var file = server.CreateFile("listing-" + Guid.NewGuid().ToString("N")[..8] + ".txt", 1234);
        var item = PSObject.AsPSObject(ps.Run("Get-FtpChildItem -Path $dir | Where-Object Name -eq $name",
            ("dir", server.RemoteRoot), ("name", file.Name)).ThrowOnError().Single());
        Assert.Equal(file.RemotePath, item.Properties["FullName"].Value);
        Assert.Equal(1234L, item.Properties["Length"].Value);
        Assert.Equal(FtpItemType.File.ToString(), item.Properties["Type"].Value!.ToString());
        Assert.NotNull(item.Properties["LastWriteTime"].Value);
        Assert.NotNull(item.Properties["Session"].Value);
        // Extended members (SecureFtp.Types.ps1xml) are seen inside the runspace.
        var container = ps.Run("(Get-FtpChildItem -Path $dir | Where-Object Name -eq $name).PSIsContainer", ("dir", server.RemoteRoot), ("name", file.Name)).ThrowOnError().Single();
        Assert.Equal(false, container);
    }

    [SkippableFact]
    public void A_missing_file_in_a_pipeline_is_a_non_terminating_ObjectNotFound()
    {
        using var ps = Connected();
        var good1 = server.CreateFile("batch-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 10);
        var good2 = server.CreateFile("batch-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 20);
        var result = ps.Run("$paths | Receive-FtpFile -Destination batch", ("paths", new[] { good1.RemotePath, "/no-such-file.bin", good2.RemotePath }));
        var error = Assert.Single(result.Errors);
        Assert.Equal("RemotePathNotFound,SecureFtp.PowerShell.Commands.ReceiveFtpFileCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(good1.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "batch", good1.Name)));
        Assert.Equal(good2.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "batch", good2.Name)));
        Assert.False(File.Exists(Path.Combine(_local, "batch", "no-such-file.bin")));
    }

    [SkippableFact]
    public void Local_tree_piped_to_Send_is_recreated_remotely()
    {
        using var ps = Connected();
        string root = Path.Combine(_local, "upload");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllText(Path.Combine(root, "one.txt"), "one");
        File.WriteAllText(Path.Combine(root, "sub", "two.txt"), "two");
        string remote = server.RemotePath("up-" + Guid.NewGuid().ToString("N")[..8]);

        // Get-ChildItem -Recurse emits FileInfo/DirectoryInfo like these (the hosted engine has no Get-ChildItem).
        ps.Run("""
            $null = New-FtpDirectory -Path $remote
            [System.IO.DirectoryInfo]::new($root).GetFileSystemInfos('*', 'AllDirectories') | Send-FtpFile -Destination $remote
            """, ("root", root), ("remote", remote)).ThrowOnError();
        string served = server.LocalPath(remote.Substring(server.RemoteRoot.Length));
        Assert.Equal("one", File.ReadAllText(Path.Combine(served, "one.txt")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(served, "sub", "two.txt")));
    }

    [SkippableFact]
    public void Send_refuses_to_overwrite_without_Force_and_WhatIf_changes_nothing()
    {
        using var ps = Connected();
        var existing = server.CreateFile("keep-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 100);
        File.WriteAllText(Path.Combine(_local, "new.txt"), "replacement");

        var refused = ps.Run("Send-FtpFile -Path new.txt -Destination $remote", ("remote", existing.RemotePath));
        Assert.Equal(ErrorCategory.ResourceExists, Assert.Single(refused.Errors).CategoryInfo.Category);
        ps.Run("Send-FtpFile -Path new.txt -Destination $remote -Force -WhatIf", ("remote", existing.RemotePath)).ThrowOnError();
        Assert.Equal(existing.Sha256, FtpServerFixture.Sha256Of(existing.LocalPath));

        ps.Run("Send-FtpFile -Path new.txt -Destination $remote -Force", ("remote", existing.RemotePath)).ThrowOnError();
        Assert.Equal("replacement", File.ReadAllText(existing.LocalPath));
    }

    [SkippableFact]
    public void Directory_rename_test_and_remove_round_trip()
    {
        using var ps = Connected();
        string dir = server.RemotePath("items-" + Guid.NewGuid().ToString("N")[..8]);
        var result = ps.Run("""
            $created = New-FtpDirectory -Path "$dir/a/b" -Force
            $created.FullName
            Test-FtpPath -Path "$dir/a/b" -PathType Container
            Rename-FtpItem -Path "$dir/a/b" -NewName c
            Test-FtpPath -Path "$dir/a/b"
            Test-FtpPath -Path "$dir/a/c" -PathType Leaf
            Remove-FtpItem -Path $dir -Recurse -WhatIf
            Test-FtpPath -Path $dir
            Remove-FtpItem -Path $dir -Recurse
            Test-FtpPath -Path $dir
            """, ("dir", dir)).ThrowOnError();
        Assert.Equal(new object[] { $"{dir}/a/b", true, false, false, true, false }, result.Output.Select(o => o.BaseObject));
        Assert.False(Directory.Exists(server.LocalPath(dir.Substring(server.RemoteRoot.Length))));
    }

    [SkippableFact]
    public void Remove_of_a_missing_path_is_ObjectNotFound()
    {
        using var ps = Connected();
        var result = ps.Run("Remove-FtpItem -Path /does/not/exist");
        Assert.Equal("RemotePathNotFound,SecureFtp.PowerShell.Commands.RemoveFtpItemCommand", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }

    [SkippableFact]
    public void File_hash_matches_the_local_hash()
    {
        using var ps = Connected();
        var file = server.CreateFile("hash-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 70_000);
        var hash = PSObject.AsPSObject(ps.Run("Get-FtpFileHash -Path $remote", ("remote", file.RemotePath)).ThrowOnError().Single());
        Assert.Equal(file.Sha256, hash.Properties["Hash"].Value);
        Assert.Equal("SHA256", hash.Properties["Algorithm"].Value);
    }

    [SkippableFact]
    public void Invoke_FtpCommand_returns_the_reply()
    {
        using var ps = Connected();
        var reply = PSObject.AsPSObject(ps.Run("Invoke-FtpCommand -Command 'NOOP'").ThrowOnError().Single());
        Assert.Equal(200, reply.Properties["Code"].Value);
    }

    [SkippableFact]
    public void Protection_switches_to_Clear_and_back_and_transfers_work_at_both_levels()
    {
        using var ps = Connected();
        var file = server.CreateFile("prot-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 5000);
        var levels = ps.Run("""
            (Set-FtpProtection -Level Clear -PassThru).DataProtection.ToString()
            Receive-FtpFile -Path $remote -Destination clear.bin
            Set-FtpProtection -Level Private -WhatIf
            (Get-SecureFtpSession -Current).DataProtection.ToString()
            (Set-FtpProtection -Level Private -PassThru).DataProtection.ToString()
            Receive-FtpFile -Path $remote -Destination private.bin
            """, ("remote", file.RemotePath)).ThrowOnError().Output.Select(o => o.ToString());
        Assert.Equal(new[] { "Clear", "Clear", "Private" }, levels);
        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "clear.bin")));
        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "private.bin")));
    }

    [SkippableFact]
    public void Downloads_report_progress_and_complete_it_and_stay_silent_when_asked()
    {
        using var ps = Connected();
        var file = server.CreateFile("progress-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 8 << 20);
        var shown = ps.Run("$ProgressPreference = 'Continue'; Receive-FtpFile -Path $remote -Destination shown.bin", ("remote", file.RemotePath)).ThrowOnError();
        Assert.NotEmpty(shown.Progress);
        Assert.Contains(shown.Progress, p => p.RecordType == ProgressRecordType.Completed);
        Assert.Equal(ProgressRecordType.Completed, shown.Progress.Last().RecordType);

        var silent = ps.Run("$ProgressPreference = 'SilentlyContinue'; Receive-FtpFile -Path $remote -Destination silent.bin", ("remote", file.RemotePath)).ThrowOnError();
        Assert.Empty(silent.Progress);
        Assert.Equal(file.Sha256, FtpServerFixture.Sha256Of(Path.Combine(_local, "silent.bin")));
    }

    [SkippableFact]
    public void Several_files_show_an_overall_bar_that_is_completed_at_the_end()
    {
        using var ps = Connected();
        string root = "many-" + Guid.NewGuid().ToString("N")[..8];
        var files = Enumerable.Range(0, 3).Select(i => server.CreateFile($"{root}/f{i}.bin", 2 << 20)).ToList();
        var result = ps.Run("$ProgressPreference = 'Continue'; $paths | Receive-FtpFile -Destination many",
            ("paths", files.Select(f => f.RemotePath).ToArray())).ThrowOnError();
        var overall = result.Progress.Where(p => p.ParentActivityId < 0 && p.ActivityId == 1).ToList();
        Assert.NotEmpty(overall);
        Assert.Equal(ProgressRecordType.Completed, overall.Last().RecordType);
        Assert.Contains(result.Progress, p => p.ParentActivityId == 1 && p.RecordType == ProgressRecordType.Completed);
        Assert.Equal(ProgressRecordType.Completed, result.Progress.Last().RecordType);
    }

    [SkippableFact]
    public void Stop_aborts_a_download_leaves_no_final_file_and_the_session_usable()
    {
        using var ps = Connected();
        var file = server.CreateFile("stop-" + Guid.NewGuid().ToString("N")[..8] + ".bin", 512L << 20);
        string target = Path.Combine(_local, "stopped.bin");
        using (var pipeline = ps.Create())
        {
            pipeline.AddScript("$ProgressPreference = 'Continue'; Receive-FtpFile -Path $remote -Destination $target");
            ps.SetVariable("remote", file.RemotePath);
            ps.SetVariable("target", target);
            var started = new ManualResetEventSlim();
            pipeline.Streams.Progress.DataAdded += (_, _) => started.Set();
            var running = pipeline.BeginInvoke();
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the download never reported progress");
            pipeline.Stop();
            Assert.Throws<PipelineStoppedException>(() => pipeline.EndInvoke(running));
        }
        Assert.False(File.Exists(target), "a stopped download must not take the final name");
        var usable = ps.Run("Test-FtpPath -Path $remote", ("remote", file.RemotePath)).ThrowOnError().Single();
        Assert.Equal(true, usable);
    }
}
