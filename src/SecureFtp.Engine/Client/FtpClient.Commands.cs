using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SecureFtp.Listing;
using SecureFtp.Protocol;

namespace SecureFtp
{
    // Control-channel commands and listings.
    public sealed partial class FtpClient
    {
        private Task<FtpReply> ExecuteCoreAsync(string command, CancellationToken ct) => Exclusive(async () =>
        {
            var reply = await Control.ExecuteAsync(command, ct).ConfigureAwait(false);
            // A 1xx is followed by the real answer (e.g. a SITE command that takes a while), but not forever.
            return await Control.ReadFinalReplyAsync(reply, command, ct).ConfigureAwait(false);
        }, ct);

        private Task<bool> SimpleAsync(string verb, string? argument, CancellationToken ct) => Exclusive(async () =>
        {
            string line = argument == null ? verb : verb + " " + FtpCommand.CheckArgument(argument, "path");
            var reply = await Control.ExecuteAsync(line, ct).ConfigureAwait(false);
            if (!reply.IsCompletion) throw FtpException.FromReply(line, reply, argument);
            return true;
        }, ct);

        private Task<bool> RenameCoreAsync(string from, string to, CancellationToken ct) => Exclusive(async () =>
        {
            var reply = await Control.ExecuteAsync("RNFR " + FtpCommand.CheckArgument(from, "path"), ct).ConfigureAwait(false);
            if (reply.Code != 350) throw FtpException.FromReply("RNFR", reply, from);
            reply = await Control.ExecuteAsync("RNTO " + FtpCommand.CheckArgument(to, "path"), ct).ConfigureAwait(false);
            if (!reply.IsCompletion) throw FtpException.FromReply("RNTO", reply, to);
            return true;
        }, ct);

        private Task<string> PwdCoreAsync(CancellationToken ct) => Exclusive(async () =>
        {
            var reply = await Control.ExecuteAsync("PWD", ct).ConfigureAwait(false);
            if (reply.Code != 257) throw FtpException.FromReply("PWD", reply);
            return ParseQuotedPath(reply);
        }, ct);

        /// <summary>RFC 959 257 reply: the path is quoted, with embedded quotes doubled.</summary>
        internal static string ParseQuotedPath(FtpReply reply)
        {
            string text = reply.LastLine;
            int start = text.IndexOf('"');
            if (start < 0) return text.Trim();
            var sb = new StringBuilder();
            for (int i = start + 1; i < text.Length; i++)
            {
                if (text[i] == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i++; }
                    else break;
                }
                else sb.Append(text[i]);
            }
            return sb.ToString();
        }

        private Task<long?> GetSizeCoreAsync(string path, CancellationToken ct) => Exclusive(() => GetSizeUnlockedAsync(path, ct), ct);

        /// <summary>SIZE in binary mode; null when the file does not exist or the server has no SIZE.</summary>
        private async Task<long?> GetSizeUnlockedAsync(string path, CancellationToken ct)
        {
            await EnsureBinaryAsync(ct).ConfigureAwait(false);
            var reply = await Control.ExecuteAsync("SIZE " + FtpCommand.CheckArgument(path, "path"), ct).ConfigureAwait(false);
            if (reply.Code == 213 && long.TryParse(reply.LastLine.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long size)) return size;
            if (reply.Code == 213) throw new FtpException(FtpErrorKind.Protocol, "MalformedSizeReply", $"The server's SIZE reply is not a number: {reply}", reply);
            return null;
        }

        private Task<DateTime?> GetModifiedTimeCoreAsync(string path, CancellationToken ct) => Exclusive(() => GetModifiedTimeUnlockedAsync(path, ct), ct);

        private async Task<DateTime?> GetModifiedTimeUnlockedAsync(string path, CancellationToken ct)
        {
            var reply = await Control.ExecuteAsync("MDTM " + FtpCommand.CheckArgument(path, "path"), ct).ConfigureAwait(false);
            return ModifiedTimeOf(reply);
        }

        private static DateTime? ModifiedTimeOf(FtpReply mdtm) => mdtm.Code == 213 ? ListingParser.ParseTimeVal(mdtm.LastLine) : null;

        private Task<IReadOnlyList<FtpListItem>> ListCoreAsync(string? path, CancellationToken ct) => Exclusive(async () =>
        {
            string dir = path ?? await PwdUnlockedAsync(ct).ConfigureAwait(false);
            bool mlsd = HasFeature("MLST");
            string command = (mlsd ? "MLSD" : "LIST") + (path != null ? " " + FtpCommand.CheckArgument(path, "path") : "");
            var now = DateTime.UtcNow;
            var items = new List<FtpListItem>();
            foreach (var line in await ReadListingLinesAsync(command, ct).ConfigureAwait(false))
            {
                var item = mlsd ? ListingParser.ParseMlsd(line, dir) : ListingParser.ParseList(line, dir, now);
                if (item == null) { Options.Verbose?.Invoke($"Listing line not understood, skipped: {line}"); continue; }
                if (!ListingParser.IsSelfOrParent(item)) items.Add(item);
            }
            return (IReadOnlyList<FtpListItem>)items;
        }, ct);

        private async Task<string> PwdUnlockedAsync(CancellationToken ct)
        {
            var reply = await Control.ExecuteAsync("PWD", ct).ConfigureAwait(false);
            return reply.Code == 257 ? ParseQuotedPath(reply) : "";
        }

        private Task<IReadOnlyList<string>> ListNamesCoreAsync(string? path, CancellationToken ct) => Exclusive(async () =>
        {
            string command = "NLST" + (path != null ? " " + FtpCommand.CheckArgument(path, "path") : "");
            return (IReadOnlyList<string>)await ReadListingLinesAsync(command, ct).ConfigureAwait(false);
        }, ct);

        /// <summary>Runs a listing command and returns its lines. A 450/550 for an empty directory is an empty list
        /// on servers that answer NLST that way; for a missing directory it is NotFound.</summary>
        private async Task<List<string>> ReadListingLinesAsync(string command, CancellationToken ct)
        {
            var lines = new List<string>();
            var buffer = new MemoryStream();
            await DownloadListingAsync(command, buffer, ct).ConfigureAwait(false);
            buffer.Position = 0;
            using var reader = new StreamReader(buffer, Options.Encoding);
            string? line;
#if NET
            while ((line = await reader.ReadLineAsync(ct).ConfigureAwait(false)) != null)
#else
            while ((line = await reader.ReadLineAsync().ConfigureAwait(false)) != null)
#endif
                if (line.Length > 0) lines.Add(line);
            return lines;
        }

        /// <summary>Listings are small and read whole; capped so a hostile server cannot exhaust memory.</summary>
        private const long MaxListingBytes = 256L * 1024 * 1024;

        private async Task DownloadListingAsync(string command, MemoryStream into, CancellationToken ct)
        {
            var transfer = await OpenDataTransferAsync(command, 0, ct).ConfigureAwait(false);
            var buffer = new byte[64 * 1024];
            await RunTransferAsync(transfer, async _ =>
            {
                int n;
                while ((n = await ReadDataAsync(transfer, buffer, ct).ConfigureAwait(false)) > 0)
                {
                    into.Write(buffer, 0, n);
                    if (into.Length > MaxListingBytes)
                        throw new FtpException(FtpErrorKind.Protocol, "ListingTooLarge", $"The {FtpCommand.Verb(command)} listing from {Options.Host} exceeds {MaxListingBytes / (1024 * 1024)} MiB.");
                }
            }, ct).ConfigureAwait(false);
            CheckUnsignalledEnd(transfer, "the " + FtpCommand.Verb(command) + " listing", null, into.Length);
        }

        private Task<FtpListItem?> GetItemCoreAsync(string path, CancellationToken ct) => Exclusive(async () =>
        {
            FtpCommand.CheckArgument(path, "path");
            if (HasFeature("MLST"))
            {
                var reply = await Control.ExecuteAsync("MLST " + path, ct).ConfigureAwait(false);
                if (reply.Code == 250)
                {
                    // RFC 3659 s.7.2: the facts line is the one that starts with a space.
                    var factsLine = reply.Lines.FirstOrDefault(l => l.StartsWith(" ", StringComparison.Ordinal));
                    var item = factsLine != null ? ListingParser.ParseMlsd(factsLine.Substring(1), RemotePath.GetParent(path)) : null;
                    if (item != null) { item.FullName = path; item.Name = RemotePath.GetFileName(path); return item; }
                }
                else if (reply.Code is 550 or 450 or 501) return null;
            }
            long? size = await GetSizeUnlockedAsync(path, ct).ConfigureAwait(false);
            if (size != null)
            {
                var modified = await GetModifiedTimeUnlockedAsync(path, ct).ConfigureAwait(false);
                return new FtpListItem { Name = RemotePath.GetFileName(path), FullName = path, Type = FtpItemType.File, Length = size, LastWriteTime = modified };
            }
            // No SIZE answer: a directory if we can enter it (and return to where we were).
            string here = await PwdUnlockedAsync(ct).ConfigureAwait(false);
            var cwd = await Control.ExecuteAsync("CWD " + path, ct).ConfigureAwait(false);
            if (cwd.IsCompletion)
            {
                if (here.Length > 0) await Control.ExecuteAsync("CWD " + here, ct).ConfigureAwait(false);
                return new FtpListItem { Name = RemotePath.GetFileName(path), FullName = path, Type = FtpItemType.Directory };
            }
            return (FtpListItem?)null;
        }, ct);

        private static readonly string[] HashAlgorithms = { "SHA-256", "SHA-512", "SHA-1", "MD5", "CRC32" };

        private Task<string?> ServerHashCoreAsync(string path, string algorithm, CancellationToken ct) => Exclusive(async () =>
        {
            FtpCommand.CheckArgument(path, "path");
            string algo = algorithm.ToUpperInvariant().Replace("SHA256", "SHA-256").Replace("SHA1", "SHA-1").Replace("SHA512", "SHA-512");
            if (HasFeature("HASH"))
            {
                // draft-bryan-ftpext-hash: FEAT "HASH SHA-256*;SHA-1;MD5", OPTS HASH selects, reply 213 "algo range hash name".
                var feat = Features.First(f => f.StartsWith("HASH", StringComparison.OrdinalIgnoreCase));
                if (feat.IndexOf(algo, StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    var opts = await Control.ExecuteAsync("OPTS HASH " + algo, ct).ConfigureAwait(false);
                    if (opts.Code == 200)
                    {
                        var reply = await Control.ExecuteAsync("HASH " + path, ct).ConfigureAwait(false);
                        if (reply.Code == 213)
                        {
                            var parts = reply.LastLine.Split(' ');
                            if (parts.Length >= 3) return parts[2].ToLowerInvariant();
                        }
                        else if (reply.Code is 550 or 450) throw FtpException.FromReply("HASH", reply, path);
                    }
                }
            }
            string? legacy = algo switch { "SHA-256" => "XSHA256", "SHA-1" => "XSHA1", "SHA-512" => "XSHA512", "MD5" => "XMD5", "CRC32" => "XCRC", _ => null };
            if (legacy != null && HasFeature(legacy))
            {
                var reply = await Control.ExecuteAsync(legacy + " " + path, ct).ConfigureAwait(false);
                if (reply.Code is 213 or 250)
                {
                    var token = reply.LastLine.Trim().Split(' ').LastOrDefault(t => t.Length >= 8 && t.All(Uri.IsHexDigit));
                    if (token != null) return token.ToLowerInvariant();
                }
                else if (reply.Code is 550 or 450) throw FtpException.FromReply(legacy, reply, path);
            }
            return (string?)null;
        }, ct);

        public void Dispose()
        {
            _security?.Dispose();
            _security = null;
            _control?.Dispose();
        }
    }
}
