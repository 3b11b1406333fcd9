using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Server
{
    /// <summary>Root mode: an RFC 959 file server (with the RFC 2389, 3659 and 2428 extensions clients rely on)
    /// over a directory, with the accounts of <see cref="SecureFtpServerOptions.Users"/>.</summary>
    internal sealed class RootCommandHandler : IFtpCommandHandler
    {
        private const int MaxFailedLogins = 5;

        private static readonly HashSet<string> WriteCommands = new HashSet<string>(StringComparer.Ordinal)
        { "STOR", "APPE", "DELE", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO", "MFMT" };

        private static readonly string[] Implemented =
        {
            "ABOR", "ACCT", "ALLO", "APPE", "AUTH", "CCC", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST", "MDTM",
            "MFMT", "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD", "QUIT", "REIN",
            "REST", "RETR", "RMD", "RNFR", "RNTO", "SIZE", "STAT", "STOR", "STRU", "SYST", "TYPE", "USER", "XCUP", "XCWD", "XMKD",
            "XPWD", "XRMD",
        };

        private readonly SecureFtpServerOptions _options;
        private readonly RootFileSystem _fileSystem;
        private string? _pendingUser;
        private string? _user;
        private bool _anonymous;
        private int _failedLogins;
        private string _cwd = "/";
        private bool _ascii;
        private long _restartOffset;
        private string? _renameFrom;

        public RootCommandHandler(SecureFtpServerOptions options, RootFileSystem fileSystem)
        {
            _options = options;
            _fileSystem = fileSystem;
        }

        public Task<FtpReply> StartAsync(CancellationToken ct) => Task.FromResult(new FtpReply(220, new[] { _options.Banner }));

        public Task<IReadOnlyList<string>> GetFeaturesAsync(CancellationToken ct)
            => Task.FromResult<IReadOnlyList<string>>(new[] { "MDTM", "MFMT", "MLST type*;size*;modify*;perm*;", "REST STREAM", "SIZE", "TVFS", "UTF8" });

        public Task ReinitializeAsync(CancellationToken ct)
        {
            _pendingUser = null;
            _user = null;
            _anonymous = false;
            _cwd = "/";
            _ascii = false;
            _restartOffset = 0;
            _renameFrom = null;
            return Task.CompletedTask;
        }

        public Task<FtpReply> QuitAsync(CancellationToken ct) => Task.FromResult(new FtpReply(221, new[] { "Goodbye." }));

        public bool IsKnownCommand(string verb) => Array.IndexOf(Implemented, verb) >= 0;

        public async Task HandleAsync(FtpServerSession session, string verb, string argument, CancellationToken ct)
        {
            if (verb != "RNTO") _renameFrom = verb == "RNFR" ? _renameFrom : null;
            if (_anonymous && WriteCommands.Contains(verb))
            {
                await session.ReplyAsync(550, "Permission denied: anonymous sessions are read-only.").ConfigureAwait(false);
                return;
            }
            try
            {
                await ExecuteAsync(session, verb, argument, ct).ConfigureAwait(false);
            }
            catch (FtpException e) when (e.Kind is FtpErrorKind.PermissionDenied or FtpErrorKind.NotFound)
            {
                await session.ReplyAsync(verb is "STOR" or "APPE" or "MKD" or "XMKD" or "RNTO" ? 553 : 550, e.Message).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                await session.ReplyAsync(550, "No such file or directory.").ConfigureAwait(false);
            }
            catch (UnauthorizedAccessException)
            {
                await session.ReplyAsync(550, "Permission denied.").ConfigureAwait(false);
            }
            catch (IOException e)
            {
                session.Log(SecureFtpServerLogKind.Warning, $"{verb} failed: {e.Message}");
                await session.ReplyAsync(450, "Requested file action not taken: the file is busy or the disk refused it.").ConfigureAwait(false);
            }
        }

        private async Task ExecuteAsync(FtpServerSession session, string verb, string argument, CancellationToken ct)
        {
            switch (verb)
            {
                case "USER": await UserAsync(session, argument).ConfigureAwait(false); return;
                case "PASS": await PassAsync(session, argument, ct).ConfigureAwait(false); return;
                case "ACCT": await session.ReplyAsync(202, "No account needed.").ConfigureAwait(false); return;
                case "SYST": await session.ReplyAsync(215, "UNIX Type: L8").ConfigureAwait(false); return;
                case "NOOP": await session.ReplyAsync(200, "NOOP ok.").ConfigureAwait(false); return;
                case "ALLO": await session.ReplyAsync(202, "No storage allocation necessary.").ConfigureAwait(false); return;
                case "HELP": await HelpAsync(session).ConfigureAwait(false); return;
                case "OPTS": await OptsAsync(session, argument).ConfigureAwait(false); return;
                case "STAT": await StatAsync(session, argument).ConfigureAwait(false); return;
                case "PWD":
                case "XPWD": await session.ReplyAsync(257, Quote(_cwd) + " is the current directory.").ConfigureAwait(false); return;
                case "CWD":
                case "XCWD": await ChangeDirectoryAsync(session, argument).ConfigureAwait(false); return;
                case "CDUP":
                case "XCUP": await ChangeDirectoryAsync(session, "..").ConfigureAwait(false); return;
                case "TYPE": await TypeAsync(session, argument).ConfigureAwait(false); return;
                case "MODE":
                    await (string.Equals(argument.Trim(), "S", StringComparison.OrdinalIgnoreCase)
                        ? session.ReplyAsync(200, "Mode set to S.") : session.ReplyAsync(504, "Only stream mode (S) is supported.")).ConfigureAwait(false);
                    return;
                case "STRU":
                    await (string.Equals(argument.Trim(), "F", StringComparison.OrdinalIgnoreCase)
                        ? session.ReplyAsync(200, "Structure set to F.") : session.ReplyAsync(504, "Only file structure (F) is supported.")).ConfigureAwait(false);
                    return;
                case "REST":
                    if (!long.TryParse(argument.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
                    {
                        await session.ReplyAsync(501, "REST needs a byte offset.").ConfigureAwait(false);
                        return;
                    }
                    _restartOffset = offset;
                    await session.ReplyAsync(350, $"Restarting at {offset}. Send STOR or RETR to continue.").ConfigureAwait(false);
                    return;
                case "SIZE": await SizeAsync(session, argument).ConfigureAwait(false); return;
                case "MDTM": await ModifiedAsync(session, argument).ConfigureAwait(false); return;
                case "MFMT": await SetModifiedAsync(session, argument).ConfigureAwait(false); return;
                case "DELE": await DeleteAsync(session, argument).ConfigureAwait(false); return;
                case "MKD":
                case "XMKD": await MakeDirectoryAsync(session, argument).ConfigureAwait(false); return;
                case "RMD":
                case "XRMD": await RemoveDirectoryAsync(session, argument).ConfigureAwait(false); return;
                case "RNFR": await RenameFromAsync(session, argument).ConfigureAwait(false); return;
                case "RNTO": await RenameToAsync(session, argument).ConfigureAwait(false); return;
                case "MLST": await MlstAsync(session, argument).ConfigureAwait(false); return;
                case "LIST":
                case "NLST":
                case "MLSD": await ListAsync(session, verb, argument, ct).ConfigureAwait(false); return;
                case "RETR": await RetrieveAsync(session, argument, ct).ConfigureAwait(false); return;
                case "STOR":
                case "APPE": await StoreAsync(session, verb, argument, ct).ConfigureAwait(false); return;
                default:
                    await session.ReplyAsync(502, $"{verb} not implemented.").ConfigureAwait(false);
                    return;
            }
        }

        // ---- login ----

        private async Task UserAsync(FtpServerSession session, string argument)
        {
            string name = argument.Trim();
            if (name.Length == 0)
            {
                await session.ReplyAsync(501, "USER needs a user name.").ConfigureAwait(false);
                return;
            }
            _user = null;
            _anonymous = false;
            session.IsLoggedIn = false;
            _pendingUser = name;
            await session.ReplyAsync(331, FtpServerSession.IsAnonymousName(name)
                ? "Anonymous login: send your e-mail address as password."
                : $"Password required for {name}.").ConfigureAwait(false);
        }

        private async Task PassAsync(FtpServerSession session, string password, CancellationToken ct)
        {
            if (_pendingUser == null)
            {
                await session.ReplyAsync(503, "Send USER first.").ConfigureAwait(false);
                return;
            }
            string name = _pendingUser;
            _pendingUser = null;
            bool anonymous = FtpServerSession.IsAnonymousName(name);
            if (!anonymous && !await session.MayTryLoginAsync(name).ConfigureAwait(false)) return;
            bool accepted = anonymous ? _options.AllowAnonymous : CheckPassword(name, password);
            if (!accepted)
            {
                _failedLogins++;
                await session.LoginFailedAsync(name, ct).ConfigureAwait(false);
                if (_failedLogins >= MaxFailedLogins)
                    throw new FtpException(FtpErrorKind.Authentication, "TooManyFailedLogins", $"Too many failed logins ({MaxFailedLogins}); closing.");
                await session.ReplyAsync(530, "Login incorrect.").ConfigureAwait(false);
                return;
            }
            _user = name;
            _anonymous = anonymous;
            _cwd = "/";
            session.IsLoggedIn = true;
            session.Log(SecureFtpServerLogKind.Info, $"User '{name}' logged in{(anonymous ? " (anonymous, read-only)" : "")}{(session.IsControlProtected ? "" : " over a cleartext connection")}.");
            await session.ReplyAsync(230, anonymous ? "Anonymous access granted, read-only." : $"User {name} logged in.").ConfigureAwait(false);
        }

        private bool CheckPassword(string name, string password)
        {
            bool match = false;
            foreach (var user in _options.Users)
            {
                if (!string.Equals(user.UserName, name, StringComparison.Ordinal)) continue;
                match |= FixedTimeEquals(Encoding.UTF8.GetBytes(user.Password ?? ""), Encoding.UTF8.GetBytes(password));
            }
            return match;
        }

        private static bool FixedTimeEquals(byte[] a, byte[] b)
        {
            int diff = a.Length ^ b.Length;
            for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
                diff |= (i < a.Length ? a[i] : 0) ^ (i < b.Length ? b[i] : 0);
            return diff == 0;
        }

        // ---- simple commands ----

        private static Task HelpAsync(FtpServerSession session)
        {
            var lines = new List<string> { "The following commands are recognized:" };
            for (int i = 0; i < Implemented.Length; i += 10)
                lines.Add(" " + string.Join(" ", Implemented.Skip(i).Take(10)));
            lines.Add("Help OK.");
            return session.ReplyAsync(214, lines);
        }

        private static Task OptsAsync(FtpServerSession session, string argument)
        {
            var parts = argument.Trim().Split(new[] { ' ' }, 2);
            switch (parts[0].ToUpperInvariant())
            {
                case "UTF8":
                case "UTF-8":
                    return session.ReplyAsync(200, "Always in UTF8 mode.");
                case "MLST":
                    return session.ReplyAsync(200, "MLST OPTS type;size;modify;perm;");
                default:
                    return session.ReplyAsync(501, $"OPTS {parts[0]} not understood.");
            }
        }

        private async Task StatAsync(FtpServerSession session, string argument)
        {
            if (argument.Trim().Length == 0)
            {
                await session.ReplyAsync(211, new[]
                {
                    "SecureFtp server status:",
                    $"Connected from {session.ClientAddress}",
                    _user != null ? $"Logged in as {_user}" : "Not logged in",
                    $"TYPE: {(_ascii ? "ASCII" : "BINARY")}, STRUcture: File, MODE: Stream",
                    $"Control connection: {(session.IsControlProtected ? "protected" : "cleartext")}; data protection: {session.DataProtection}",
                    "End of status",
                }).ConfigureAwait(false);
                return;
            }
            if (_user == null)
            {
                await session.ReplyAsync(530, "Please log in with USER and PASS first.").ConfigureAwait(false);
                return;
            }
            var lines = new List<string> { "Status of " + argument.Trim() + ":" };
            lines.AddRange(ListingLines("LIST", argument).Select(l => " " + l));
            lines.Add("End of status");
            await session.ReplyAsync(213, lines).ConfigureAwait(false);
        }

        private async Task ChangeDirectoryAsync(FtpServerSession session, string argument)
        {
            string path = RootFileSystem.Normalize(_cwd, argument.Length == 0 ? "/" : argument);
            if (!Directory.Exists(_fileSystem.ToLocal(path)))
            {
                await session.ReplyAsync(550, $"{argument}: no such directory.").ConfigureAwait(false);
                return;
            }
            _cwd = path;
            await session.ReplyAsync(250, $"Directory changed to {path}.").ConfigureAwait(false);
        }

        private async Task TypeAsync(FtpServerSession session, string argument)
        {
            var parts = argument.Trim().ToUpperInvariant().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            string type = parts.Length > 0 ? parts[0] : "";
            if (type == "A" && (parts.Length == 1 || parts[1] == "N"))
            {
                _ascii = true;
                await session.ReplyAsync(200, "Type set to A.").ConfigureAwait(false);
            }
            else if (type == "I" || (type == "L" && parts.Length == 2 && parts[1] == "8"))
            {
                _ascii = false;
                await session.ReplyAsync(200, "Type set to I.").ConfigureAwait(false);
            }
            else if (type is "A" or "E" or "L")
                await session.ReplyAsync(504, $"TYPE {argument.Trim()} is not supported; use A or I.").ConfigureAwait(false);
            else
                await session.ReplyAsync(501, "TYPE takes A or I.").ConfigureAwait(false);
        }

        private async Task SizeAsync(FtpServerSession session, string argument)
        {
            var file = new FileInfo(_fileSystem.ToLocal(RootFileSystem.Normalize(_cwd, argument)));
            if (!file.Exists)
            {
                await session.ReplyAsync(550, $"{argument}: not a plain file.").ConfigureAwait(false);
                return;
            }
            await session.ReplyAsync(213, file.Length.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }

        private async Task ModifiedAsync(FtpServerSession session, string argument)
        {
            var file = new FileInfo(_fileSystem.ToLocal(RootFileSystem.Normalize(_cwd, argument)));
            if (!file.Exists)
            {
                await session.ReplyAsync(550, $"{argument}: not a plain file.").ConfigureAwait(false);
                return;
            }
            await session.ReplyAsync(213, file.LastWriteTimeUtc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }

        /// <summary>MFMT (draft-somers-ftp-mfxx, "The 'MFMT', 'MFCT', and 'MFF' Command Extensions for FTP"): sets a
        /// file's modification time, "MFMT YYYYMMDDHHMMSS[.sss] path" in UTC; the reply gives the time now stored.</summary>
        private async Task SetModifiedAsync(FtpServerSession session, string argument)
        {
            string text = argument.TrimStart();
            int sp = text.IndexOf(' ');
            string stamp = sp < 0 ? text : text.Substring(0, sp);
            string target = sp < 0 ? "" : text.Substring(sp + 1);
            if (target.Length == 0 || !DateTime.TryParseExact(stamp, new[] { "yyyyMMddHHmmss", "yyyyMMddHHmmss.FFF" }, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
            {
                await session.ReplyAsync(501, "MFMT needs a time (YYYYMMDDHHMMSS, UTC) and a file name.").ConfigureAwait(false);
                return;
            }
            string path = RootFileSystem.Normalize(_cwd, target);
            var file = new FileInfo(_fileSystem.ToLocal(path));
            if (!file.Exists)
            {
                await session.ReplyAsync(550, $"{target}: not a plain file.").ConfigureAwait(false);
                return;
            }
            file.LastWriteTimeUtc = time;
            file.Refresh();
            await session.ReplyAsync(213, $"Modify={file.LastWriteTimeUtc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}; {target}").ConfigureAwait(false);
        }

        private async Task DeleteAsync(FtpServerSession session, string argument)
        {
            string local = _fileSystem.ToLocal(RootFileSystem.Normalize(_cwd, argument));
            if (!File.Exists(local))
            {
                await session.ReplyAsync(550, $"{argument}: no such file.").ConfigureAwait(false);
                return;
            }
            File.Delete(local);
            await session.ReplyAsync(250, "File deleted.").ConfigureAwait(false);
        }

        private async Task MakeDirectoryAsync(FtpServerSession session, string argument)
        {
            string path = RootFileSystem.Normalize(_cwd, argument);
            string local = _fileSystem.ToLocal(path);
            if (path == "/" || Directory.Exists(local) || File.Exists(local))
            {
                await session.ReplyAsync(550, $"{argument}: already exists.").ConfigureAwait(false);
                return;
            }
            if (!Directory.Exists(Path.GetDirectoryName(local)!))
            {
                await session.ReplyAsync(550, $"{argument}: the parent directory does not exist.").ConfigureAwait(false);
                return;
            }
            Directory.CreateDirectory(local);
            await session.ReplyAsync(257, Quote(path) + " created.").ConfigureAwait(false);
        }

        private async Task RemoveDirectoryAsync(FtpServerSession session, string argument)
        {
            string path = RootFileSystem.Normalize(_cwd, argument);
            string local = _fileSystem.ToLocal(path);
            if (path == "/" || !Directory.Exists(local))
            {
                await session.ReplyAsync(550, $"{argument}: no such directory.").ConfigureAwait(false);
                return;
            }
            if (Directory.EnumerateFileSystemEntries(local).Any())
            {
                await session.ReplyAsync(550, $"{argument}: directory not empty.").ConfigureAwait(false);
                return;
            }
            Directory.Delete(local);
            await session.ReplyAsync(250, "Directory removed.").ConfigureAwait(false);
        }

        private async Task RenameFromAsync(FtpServerSession session, string argument)
        {
            string path = RootFileSystem.Normalize(_cwd, argument);
            string local = _fileSystem.ToLocal(path);
            if (path == "/" || (!File.Exists(local) && !Directory.Exists(local)))
            {
                await session.ReplyAsync(550, $"{argument}: no such file or directory.").ConfigureAwait(false);
                return;
            }
            _renameFrom = path;
            await session.ReplyAsync(350, "Ready for RNTO.").ConfigureAwait(false);
        }

        private async Task RenameToAsync(FtpServerSession session, string argument)
        {
            string? from = _renameFrom;
            _renameFrom = null;
            if (from == null)
            {
                await session.ReplyAsync(503, "Send RNFR first.").ConfigureAwait(false);
                return;
            }
            string source = _fileSystem.ToLocal(from);
            string targetPath = RootFileSystem.Normalize(_cwd, argument);
            string target = _fileSystem.ToLocal(targetPath);
            if (File.Exists(target) || Directory.Exists(target))
            {
                await session.ReplyAsync(553, $"{argument}: already exists.").ConfigureAwait(false);
                return;
            }
            if ((targetPath + "/").StartsWith(from + "/", StringComparison.Ordinal))
            {
                await session.ReplyAsync(553, "A directory cannot be moved into itself.").ConfigureAwait(false);
                return;
            }
            if (Directory.Exists(source)) Directory.Move(source, target);
            else File.Move(source, target);
            await session.ReplyAsync(250, "Rename successful.").ConfigureAwait(false);
        }

        // ---- listings ----

        private async Task MlstAsync(FtpServerSession session, string argument)
        {
            string path = RootFileSystem.Normalize(_cwd, argument.Trim().Length == 0 ? "." : argument.Trim());
            string local = _fileSystem.ToLocal(path);
            FileSystemInfo info = Directory.Exists(local) ? new DirectoryInfo(local) : new FileInfo(local);
            if (!info.Exists)
            {
                await session.ReplyAsync(550, $"{argument}: no such file or directory.").ConfigureAwait(false);
                return;
            }
            await session.ReplyAsync(250, new[] { "Listing " + path, " " + Facts(info) + " " + path, "End" }).ConfigureAwait(false);
        }

        private async Task ListAsync(FtpServerSession session, string verb, string argument, CancellationToken ct)
        {
            _restartOffset = 0;
            List<string> lines;
            try
            {
                lines = ListingLines(verb, argument);
            }
            catch (Exception e) when (e is FtpException or IOException or UnauthorizedAccessException)
            {
                await session.ReplyAsync(550, e is FtpException ? e.Message : "Cannot list that directory.").ConfigureAwait(false);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n")));
            session.StartTransfer(async c =>
            {
                if (await session.TransferAsync($"Opening {(verb == "MLSD" ? "BINARY" : "ASCII")} mode data connection for the listing.",
                        (data, token) => data.WriteAsync(bytes, 0, bytes.Length, token), c).ConfigureAwait(false))
                    await session.ReplyAsync(226, "Transfer complete.").ConfigureAwait(false);
            }, ct);
        }

        /// <summary>The lines of a LIST, NLST or MLSD. The argument may start with ls options ("-la"), which are ignored.</summary>
        private List<string> ListingLines(string verb, string argument)
        {
            string target = argument.Trim();
            while (target.StartsWith("-", StringComparison.Ordinal))
            {
                int sp = target.IndexOf(' ');
                target = sp < 0 ? "" : target.Substring(sp + 1).TrimStart();
            }
            string path = RootFileSystem.Normalize(_cwd, target.Length == 0 ? "." : target);
            string local = _fileSystem.ToLocal(path);
            IEnumerable<FileSystemInfo> entries;
            if (Directory.Exists(local)) entries = RootFileSystem.Entries(local);
            else if (File.Exists(local) && verb != "MLSD") entries = new[] { new FileInfo(local) };
            else throw new FtpException(FtpErrorKind.NotFound, "ServerPathNotFound", $"{(target.Length == 0 ? path : target)}: no such {(verb == "MLSD" ? "directory" : "file or directory")}.");
            var now = DateTime.UtcNow;
            return entries.Select(e => verb switch
            {
                "NLST" => e.Name,
                "MLSD" => Facts(e) + " " + e.Name,
                _ => UnixListLine(e, now),
            }).ToList();
        }

        private string Facts(FileSystemInfo info)
        {
            string modify = info.LastWriteTimeUtc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            if (RootFileSystem.IsLink(info)) return $"type=OS.unix=symlink;modify={modify};perm=;";
            if (info is DirectoryInfo) return $"type=dir;modify={modify};perm={(_anonymous ? "el" : "elcmpdf")};";
            return $"type=file;size={((FileInfo)info).Length.ToString(CultureInfo.InvariantCulture)};modify={modify};perm={(_anonymous ? "r" : "rwadf")};";
        }

        private static string UnixListLine(FileSystemInfo info, DateTime nowUtc)
        {
            bool link = RootFileSystem.IsLink(info);
            bool directory = info is DirectoryInfo;
            string mode = link ? "lrwxrwxrwx" : directory ? "drwxr-xr-x" : "-rw-r--r--";
            long size = !link && info is FileInfo file ? file.Length : directory ? 4096 : 0;
            var time = info.LastWriteTimeUtc;
            string when = Math.Abs((nowUtc - time).TotalDays) < 180
                ? time.ToString("MMM dd HH:mm", CultureInfo.InvariantCulture)
                : time.ToString("MMM dd  yyyy", CultureInfo.InvariantCulture);
            return string.Format(CultureInfo.InvariantCulture, "{0} 1 ftp ftp {1,12} {2} {3}", mode, size, when, info.Name);
        }

        // ---- transfers ----

        private async Task RetrieveAsync(FtpServerSession session, string argument, CancellationToken ct)
        {
            long offset = _restartOffset;
            _restartOffset = 0;
            string local = _fileSystem.ToLocal(RootFileSystem.Normalize(_cwd, argument));
            if (!File.Exists(local))
            {
                await session.ReplyAsync(550, $"{argument}: no such file.").ConfigureAwait(false);
                return;
            }
            var file = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            if (offset > file.Length)
            {
                file.Dispose();
                await session.ReplyAsync(554, $"Restart offset {offset} is beyond the end of the file ({file.Length} bytes).").ConfigureAwait(false);
                return;
            }
            file.Seek(offset, SeekOrigin.Begin);
            bool ascii = _ascii;
            string name = Path.GetFileName(local);
            session.StartTransfer(async c =>
            {
                using (file)
                {
                    if (await session.TransferAsync($"Opening {(ascii ? "ASCII" : "BINARY")} mode data connection for {name} ({file.Length - offset} bytes).",
                            (data, token) => session.CopyAsync(file, data, token, ascii ? AsciiOut() : null), c).ConfigureAwait(false))
                        await session.ReplyAsync(226, "Transfer complete.").ConfigureAwait(false);
                }
            }, ct);
        }

        /// <summary>STOR writes beside the target, into <see cref="PartialPath"/>, and renames that over the target only
        /// when the whole upload arrived (TLS close_notify, RFC 2228 end-of-file block), so a cut upload never
        /// replaces a good file with part of a new one. What arrived of a cut STOR stays in the partial file: REST n
        /// then STOR continues it there (the 426 names n), and the target is replaced once it is complete. REST
        /// without a partial file, and APPE, extend the target in place, as clients expect of a resume.</summary>
        private async Task StoreAsync(FtpServerSession session, string verb, string argument, CancellationToken ct)
        {
            long offset = _restartOffset;
            _restartOffset = 0;
            string path = RootFileSystem.Normalize(_cwd, argument);
            string local = _fileSystem.ToLocal(path);
            string directory = Path.GetDirectoryName(local)!;
            if (path == "/" || Directory.Exists(local))
            {
                await session.ReplyAsync(553, $"{argument}: is a directory.").ConfigureAwait(false);
                return;
            }
            if (!Directory.Exists(directory))
            {
                await session.ReplyAsync(553, $"{argument}: the directory does not exist.").ConfigureAwait(false);
                return;
            }
            string partial = PartialPath(local);
            bool viaPartial = verb == "STOR" && (offset == 0 || File.Exists(partial));
            string writePath = viaPartial ? partial : local;
            FileStream file;
            if (verb == "APPE") file = new FileStream(writePath, FileMode.Append, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            else if (offset > 0)
            {
                file = new FileStream(writePath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
                if (offset > file.Length)
                {
                    long length = file.Length;
                    file.Dispose();
                    await session.ReplyAsync(554, $"Restart offset {offset} is beyond the {length} bytes {(viaPartial ? "kept of the interrupted upload" : "of the file")}.").ConfigureAwait(false);
                    return;
                }
                file.SetLength(offset);
                file.Seek(offset, SeekOrigin.Begin);
            }
            else file = new FileStream(writePath, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            bool ascii = _ascii;
            string name = Path.GetFileName(local);
            session.StartTransfer(async c =>
            {
                bool complete = false;
                long kept = 0;
                try
                {
                    using (file)
                    {
                        complete = await session.TransferAsync($"Opening {(ascii ? "ASCII" : "BINARY")} mode data connection for {name}.",
                            (data, token) => session.CopyAsync(data, file, token, ascii ? AsciiIn() : null), c,
                            () => ResumeNote(file, viaPartial, name)).ConfigureAwait(false);
                        await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        kept = file.Length;
                    }
                    if (complete && viaPartial) ReplaceFile(writePath, local);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    session.Log(SecureFtpServerLogKind.Error, $"Saving {path} failed: {e.Message}");
                    if (viaPartial) TryDelete(writePath);
                    await session.ReplyAsync(451, "Could not save the file: local error in processing.").ConfigureAwait(false);
                    return;
                }
                if (complete)
                {
                    session.Log(SecureFtpServerLogKind.Info, $"Stored {path}.");
                    await session.ReplyAsync(226, "Transfer complete.").ConfigureAwait(false);
                }
                else if (viaPartial && (kept == 0 || c.IsCancellationRequested))
                {
                    // ABOR (or the server stopping) is the client's own decision to drop the upload: nothing is kept.
                    // A cut connection is not: what arrived stays for the resume the 426 described.
                    TryDelete(writePath);
                }
                else session.Log(SecureFtpServerLogKind.Info, $"Upload of {path} incomplete: {kept} bytes kept {(viaPartial ? "for a resume (REST and STOR); the existing file is unchanged" : "in place")}.");
            }, ct);
        }

        /// <summary>Where STOR writes until the upload is complete: a hidden name beside the target, the same for every
        /// attempt, so a resumed STOR finds what the cut one left. An aborted STOR (ABOR) leaves nothing.</summary>
        internal static string PartialPath(string local) => Path.Combine(Path.GetDirectoryName(local)!, "." + Path.GetFileName(local) + ".partial");

        private static string ResumeNote(FileStream file, bool viaPartial, string name)
        {
            long length;
            try
            {
                file.Flush();
                length = file.Length;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { return ""; }
            return viaPartial
                ? $"{name} is unchanged; {length} bytes are kept: send REST {length} and STOR {name} to resume."
                : $"{length} bytes are in {name}: resume from there.";
        }

        private static void TryDelete(string path)
        {
            try { if (File.Exists(path)) File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        private static void ReplaceFile(string source, string target)
        {
#if NET
            File.Move(source, target, overwrite: true);
#else
            if (File.Exists(target)) File.Replace(source, target, null);
            else File.Move(source, target);
#endif
        }

        /// <summary>TYPE A sending: bare LF becomes CRLF (RFC 959 s.3.1.1.1, NVT-ASCII end of line).</summary>
        private static Func<byte[], int, ArraySegment<byte>> AsciiOut()
        {
            bool lastWasCr = false;
            var output = new byte[128 * 1024 + 2];
            return (buffer, count) =>
            {
                int n = 0;
                for (int i = 0; i < count; i++)
                {
                    byte b = buffer[i];
                    if (b == '\n' && !lastWasCr) output[n++] = (byte)'\r';
                    output[n++] = b;
                    lastWasCr = b == '\r';
                }
                return new ArraySegment<byte>(output, 0, n);
            };
        }

        /// <summary>TYPE A receiving: CRLF becomes the local LF.</summary>
        private static Func<byte[], int, ArraySegment<byte>> AsciiIn()
        {
            bool pendingCr = false;
            var output = new byte[64 * 1024 + 1];
            return (buffer, count) =>
            {
                int n = 0;
                for (int i = 0; i < count; i++)
                {
                    byte b = buffer[i];
                    if (pendingCr && b != '\n') output[n++] = (byte)'\r';
                    pendingCr = b == '\r';
                    if (!pendingCr) output[n++] = b;
                }
                return new ArraySegment<byte>(output, 0, n);
            };
        }

        private static string Quote(string path) => "\"" + path.Replace("\"", "\"\"") + "\"";

        public void Dispose() { }
    }
}
