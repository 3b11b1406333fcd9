using SecureFtp.Tests.Infrastructure;

namespace SecureFtp.Tests.Server;

/// <summary>How a legacy client reaches a test server.</summary>
public enum ClientSecurity
{
    /// <summary>Plain RFC 959.</summary>
    None,
    /// <summary>AUTH TLS, PBSZ 0, PROT P; the certificate checked against this run's test CA.</summary>
    ExplicitTls,
    /// <summary>AUTH TLS with the certificate check switched off (curl -k, lftp ssl:verify-certificate no).</summary>
    ExplicitTlsUnverified,
    /// <summary>AUTH SSL (TLS-P): data private without PROT (lftp only; curl always sends AUTH TLS first).</summary>
    AuthSsl,
    /// <summary>TLS from the first byte, on the implicit port.</summary>
    ImplicitTls,
}

/// <summary>curl and lftp, the real legacy clients, against <see cref="RunningServer"/>.</summary>
public static class LegacyClients
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static List<string> CurlArguments(ClientSecurity security, string user, string password)
    {
        var arguments = new List<string> { "--silent", "--show-error", "--fail", "--max-time", "60", "--user", $"{user}:{password}" };
        if (Environment.GetEnvironmentVariable("SECUREFTP_CURL_VERBOSE") == "1") arguments.Add("-v");
        switch (security)
        {
            case ClientSecurity.ExplicitTls:
            case ClientSecurity.ImplicitTls:
                arguments.AddRange(new[] { "--ssl-reqd", "--cacert", TestCertificates.Current.AuthorityFile });
                break;
            case ClientSecurity.ExplicitTlsUnverified:
                arguments.AddRange(new[] { "--ssl-reqd", "-k" });
                break;
            case ClientSecurity.AuthSsl:
                throw new ArgumentException("curl has no AUTH SSL mode.", nameof(security));
        }
        return arguments;
    }

    private static string CurlUrl(ClientSecurity security, int port, string path)
        => $"{(security == ClientSecurity.ImplicitTls ? "ftps" : "ftp")}://localhost:{port}/{path}";

    public static Task<ProcessResult> CurlUploadAsync(ClientSecurity security, int port, string localFile, string remotePath, string user = RunningServer.UserName, string password = RunningServer.Password, bool active = false)
    {
        var arguments = CurlArguments(security, user, password);
        if (active) arguments.AddRange(new[] { "--ftp-port", "127.0.0.1" });
        arguments.AddRange(new[] { "--upload-file", localFile, CurlUrl(security, port, remotePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    public static Task<ProcessResult> CurlDownloadAsync(ClientSecurity security, int port, string remotePath, string localFile, string user = RunningServer.UserName, string password = RunningServer.Password, bool active = false)
    {
        var arguments = CurlArguments(security, user, password);
        if (active) arguments.AddRange(new[] { "--ftp-port", "127.0.0.1" });
        arguments.AddRange(new[] { "--output", localFile, CurlUrl(security, port, remotePath) });
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    /// <summary>A directory listing ("LIST"), or the names only when <paramref name="namesOnly"/> ("NLST").</summary>
    public static Task<ProcessResult> CurlListAsync(ClientSecurity security, int port, string directory = "", bool namesOnly = false, string user = RunningServer.UserName, string password = RunningServer.Password)
    {
        var arguments = CurlArguments(security, user, password);
        if (namesOnly) arguments.Add("--list-only");
        arguments.Add(CurlUrl(security, port, directory.Length == 0 ? "" : directory.TrimEnd('/') + "/"));
        return ExternalProcess.RunAsync(Peer.Require("curl"), arguments, Limit);
    }

    /// <summary>Runs lftp <paramref name="commands"/> (';'-separated) after logging in.</summary>
    public static Task<ProcessResult> LftpAsync(ClientSecurity security, int port, string commands, string user = RunningServer.UserName, string password = RunningServer.Password, bool active = false)
    {
        var settings = new List<string> { "set cmd:fail-exit true", "set net:max-retries 1", "set net:timeout 20", $"set ftp:passive-mode {(active ? "false" : "true")}" };
        if (active) settings.Add("set ftp:port-ipv4 127.0.0.1");
        string scheme = "ftp";
        switch (security)
        {
            case ClientSecurity.None:
                settings.Add("set ftp:ssl-allow false");
                break;
            case ClientSecurity.ImplicitTls:
                scheme = "ftps";
                break;
            default:
                settings.Add("set ftp:ssl-force true");
                settings.Add("set ftp:ssl-protect-data true");
                settings.Add($"set ftp:ssl-auth {(security == ClientSecurity.AuthSsl ? "SSL" : "TLS")}");
                break;
        }
        if (security == ClientSecurity.ExplicitTls || security == ClientSecurity.ImplicitTls)
        {
            settings.Add($"set ssl:ca-file {TestCertificates.Current.AuthorityFile}");
            settings.Add("set ssl:verify-certificate true");
        }
        else if (security != ClientSecurity.None)
            settings.Add("set ssl:verify-certificate no");
        string script = string.Join("; ", settings) + $"; open -u {user},{password} {scheme}://localhost:{port}; {commands}; bye";
        return ExternalProcess.RunAsync(Peer.Require("lftp"), new[] { "-c", script }, Limit);
    }

    public static string Sha256Of(string path) => FtpServerFixture.Sha256Of(path);
}
