using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Interop;

/// <summary>curl and lftp invocations for a test server: they prove a fixture itself works, independently of
/// the engine. Both verify the server certificate against the test CA and the host name.</summary>
public static class PeerClients
{
    // curl and lftp give up on their own first (--max-time, net:timeout), so their own error is what a failure shows.
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>curl's URL for a path relative to the served root. "%2F" makes curl start from "/" for
    /// servers that do not chroot the login.</summary>
    public static string CurlUrl(FtpServerFixture server, string host, string relativePath)
    {
        string scheme = server.Capabilities.Mechanism == FtpMechanism.ImplicitTls ? "ftps" : "ftp";
        string root = server.RemoteRoot == "/" ? "" : "%2F" + server.RemoteRoot.Trim('/') + "/";
        return $"{scheme}://{host}:{server.Port}/{root}{relativePath}";
    }

    private static List<string> CurlCommon(FtpServerFixture server)
    {
        var arguments = new List<string> { "--silent", "--show-error", "--fail", "--max-time", "100", "--user", $"{server.User}:{server.Password}" };
        if (server.Capabilities.UsesTls)
            arguments.AddRange(new[] { "--ssl-reqd", "--cacert", server.Certificates.AuthorityFile });
        if (server.Capabilities.MaxTlsProtocol == System.Security.Authentication.SslProtocols.Tls12)
            arguments.AddRange(new[] { "--tls-max", "1.2" });
        return arguments;
    }

    public static Task<ProcessResult> CurlDownloadAsync(FtpServerFixture server, string host, string relativePath, string localFile)
    {
        var arguments = CurlCommon(server);
        arguments.AddRange(new[] { "--output", localFile, CurlUrl(server, host, relativePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    public static Task<ProcessResult> CurlUploadAsync(FtpServerFixture server, string host, string localFile, string relativePath)
    {
        var arguments = CurlCommon(server);
        arguments.AddRange(new[] { "--upload-file", localFile, CurlUrl(server, host, relativePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    public static Task<ProcessResult> CurlListAsync(FtpServerFixture server, string host)
    {
        var arguments = CurlCommon(server);
        arguments.Add(CurlUrl(server, host, ""));
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    /// <summary>Runs lftp <paramref name="commands"/> (';'-separated) in the served root of <paramref name="server"/>.</summary>
    public static Task<ProcessResult> LftpAsync(FtpServerFixture server, string host, string commands)
    {
        var settings = new List<string>
        {
            "set cmd:fail-exit true",
            "set net:max-retries 1",
            "set net:timeout 20",
            "set ftp:passive-mode true",
        };
        string scheme = "ftp";
        switch (server.Capabilities.Mechanism)
        {
            case FtpMechanism.ImplicitTls:
                scheme = "ftps";
                break;
            case FtpMechanism.Tls:
            case FtpMechanism.Ssl:
                settings.Add("set ftp:ssl-force true");
                settings.Add("set ftp:ssl-protect-data true");
                settings.Add($"set ftp:ssl-auth {(server.Capabilities.Mechanism == FtpMechanism.Ssl ? "SSL" : "TLS")}");
                break;
            default:
                settings.Add("set ftp:ssl-allow false");
                break;
        }
        if (server.Capabilities.UsesTls)
        {
            settings.Add($"set ssl:ca-file {server.Certificates.AuthorityFile}");
            settings.Add("set ssl:verify-certificate true");
            settings.Add("set ssl:check-hostname true");
        }
        if (server.Capabilities.MaxTlsProtocol == System.Security.Authentication.SslProtocols.Tls12)
            settings.Add("set ssl:priority NORMAL:-VERS-TLS1.3");
        string script = string.Join("; ", settings)
            + $"; open -u {server.User},{server.Password} {scheme}://{host}:{server.Port}"
            + $"; cd {server.RemoteRoot}; {commands}; bye";
        return ExternalProcess.RunAsync(Peer.Require("lftp"), new[] { "-c", script }, Limit);
    }
}
