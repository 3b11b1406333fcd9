using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SecureFtp.Listing
{
    /// <summary>Parses directory listings: MLSD facts (RFC 3659 s.7) and the two common LIST styles
    /// (Unix "ls -l" and DOS/IIS). Lines that match no style are skipped, never guessed at.</summary>
    public static class ListingParser
    {
        /// <summary>Parses one MLSD/MLST line "fact=value;fact=value; name". Returns null for a malformed line.</summary>
        public static FtpListItem? ParseMlsd(string line, string directory)
        {
            // RFC 3659: facts, then exactly one space, then the name (which may itself contain spaces or ';').
            int sp = line.IndexOf(' ');
            if (sp < 0) return null;
            string facts = line.Substring(0, sp), name = line.Substring(sp + 1);
            if (name.Length == 0) return null;
            var item = new FtpListItem { RawLine = line };
            foreach (var fact in facts.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = fact.IndexOf('=');
                if (eq <= 0) continue;
                item.Facts[fact.Substring(0, eq).ToLowerInvariant()] = fact.Substring(eq + 1);
            }
            // MLST returns the full path as the name; MLSD returns the bare name.
            int slash = name.LastIndexOf('/');
            item.Name = slash >= 0 && slash < name.Length - 1 ? name.Substring(slash + 1) : name;
            item.FullName = name.StartsWith("/", StringComparison.Ordinal) ? name : RemotePath.Combine(directory, name);
            item.Type = (item.Facts.TryGetValue("type", out var t) ? t.ToLowerInvariant() : "") switch
            {
                "file" => FtpItemType.File,
                "dir" => FtpItemType.Directory,
                "cdir" => FtpItemType.Directory,
                "pdir" => FtpItemType.Directory,
                var s when s.StartsWith("os.unix=slink", StringComparison.Ordinal) || s.StartsWith("os.unix=symlink", StringComparison.Ordinal) => FtpItemType.Link,
                _ => FtpItemType.Other,
            };
            if (item.Facts.TryGetValue("size", out var size) && long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) item.Length = n;
            else if (item.Facts.TryGetValue("sizd", out var sizd) && long.TryParse(sizd, NumberStyles.None, CultureInfo.InvariantCulture, out long d)) item.Length = d;
            if (item.Facts.TryGetValue("modify", out var modify)) item.LastWriteTime = ParseTimeVal(modify);
            if (item.Facts.TryGetValue("unix.mode", out var mode)) item.Permissions = mode;
            else if (item.Facts.TryGetValue("perm", out var perm)) item.Permissions = perm;
            if (item.Facts.TryGetValue("unix.owner", out var owner) || item.Facts.TryGetValue("unix.ownername", out owner)) item.Owner = owner;
            if (item.Facts.TryGetValue("unix.group", out var group) || item.Facts.TryGetValue("unix.groupname", out group)) item.Group = group;
            return item;
        }

        /// <summary>True for the "." and ".." entries (MLSD cdir/pdir, LIST "." and "..").</summary>
        public static bool IsSelfOrParent(FtpListItem item)
            => item.Name == "." || item.Name == ".." ||
               (item.Facts.TryGetValue("type", out var t) && (t.Equals("cdir", StringComparison.OrdinalIgnoreCase) || t.Equals("pdir", StringComparison.OrdinalIgnoreCase)));

        /// <summary>RFC 3659 time-val: YYYYMMDDHHMMSS[.sss], always UTC.</summary>
        public static DateTime? ParseTimeVal(string value)
        {
            string[] formats = { "yyyyMMddHHmmss", "yyyyMMddHHmmss.f", "yyyyMMddHHmmss.ff", "yyyyMMddHHmmss.fff" };
            return DateTime.TryParseExact(value.Trim(), formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt) ? dt : (DateTime?)null;
        }

        private static readonly Regex Unix = new Regex(
            @"^(?<type>[-dlbcps])(?<perm>[-rwxsStTl]{9})[+@.]?\s+(?<links>\d+)\s+(?:(?<owner>\S+)\s+(?:(?<group>\S+)\s+)?)?(?<size>\d+)\s+" +
            @"(?<month>[A-Za-z]{3})\s+(?<day>\d{1,2})\s+(?:(?<time>\d{1,2}:\d{2})|(?<year>\d{4}))\s(?<name>.+)$",
            RegexOptions.CultureInvariant);

        private static readonly Regex Dos = new Regex(
            @"^(?<date>\d{2}-\d{2}-\d{2,4})\s+(?<time>\d{1,2}:\d{2}(?:[AaPp][Mm])?)\s+(?:(?<dir><DIR>)|(?<size>\d+))\s+(?<name>.+)$",
            RegexOptions.CultureInvariant);

        /// <summary>Parses one LIST line (Unix or DOS style). <paramref name="now"/> resolves year-less Unix dates.</summary>
        public static FtpListItem? ParseList(string line, string directory, DateTime now)
        {
            if (line.Length == 0 || line.StartsWith("total ", StringComparison.Ordinal)) return null;
            var m = Unix.Match(line);
            if (m.Success)
            {
                var item = new FtpListItem { RawLine = line };
                string name = m.Groups["name"].Value;
                item.Type = m.Groups["type"].Value switch { "d" => FtpItemType.Directory, "-" => FtpItemType.File, "l" => FtpItemType.Link, _ => FtpItemType.Other };
                if (item.Type == FtpItemType.Link)
                {
                    int arrow = name.IndexOf(" -> ", StringComparison.Ordinal);
                    if (arrow > 0) { item.LinkTarget = name.Substring(arrow + 4); name = name.Substring(0, arrow); }
                }
                item.Name = name;
                item.FullName = RemotePath.Combine(directory, name);
                item.Length = Number(m.Groups["size"].Value);
                item.Permissions = m.Groups["perm"].Value;
                item.Owner = m.Groups["owner"].Success ? m.Groups["owner"].Value : null;
                item.Group = m.Groups["group"].Success ? m.Groups["group"].Value : null;
                item.LastWriteTime = UnixDate(m, now);
                return item;
            }
            m = Dos.Match(line);
            if (m.Success)
            {
                var item = new FtpListItem { RawLine = line, Name = m.Groups["name"].Value };
                item.FullName = RemotePath.Combine(directory, item.Name);
                item.Type = m.Groups["dir"].Success ? FtpItemType.Directory : FtpItemType.File;
                if (m.Groups["size"].Success) item.Length = Number(m.Groups["size"].Value);
                string[] formats = { "MM-dd-yy h:mmtt", "MM-dd-yyyy h:mmtt", "MM-dd-yy H:mm", "MM-dd-yyyy H:mm" };
                if (DateTime.TryParseExact(m.Groups["date"].Value + " " + m.Groups["time"].Value.ToUpperInvariant(), formats,
                        CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dt))
                    item.LastWriteTime = dt;
                return item;
            }
            return null;
        }

        private static DateTime? UnixDate(Match m, DateTime now)
        {
            int month = Array.IndexOf(new[] { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" }, m.Groups["month"].Value.ToLowerInvariant()) + 1;
            if (month == 0) return null;
            if (Number(m.Groups["day"].Value) is not long day) return null;
            try
            {
                if (m.Groups["year"].Success)
                    return Number(m.Groups["year"].Value) is long year ? new DateTime((int)year, month, (int)day, 0, 0, 0, DateTimeKind.Utc) : null;
                var parts = m.Groups["time"].Value.Split(':');
                if (Number(parts[0]) is not long hour || Number(parts[1]) is not long minute) return null;
                // "ls" shows a time instead of a year for dates within the last six months: pick the year
                // that puts the date in the past (allowing a day of clock skew).
                var dt = new DateTime(now.Year, month, (int)day, (int)hour, (int)minute, 0, DateTimeKind.Utc);
                return dt > now.AddDays(1) ? dt.AddYears(-1) : dt;
            }
            catch (ArgumentOutOfRangeException) { return null; }
        }

        /// <summary>A field the patterns matched as digits: \d also matches non-ASCII digits, and a hostile server can
        /// send more digits than a long holds. Either way the value is unknown (null), never an exception.</summary>
        private static long? Number(string digits)
            => long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : (long?)null;
    }

    /// <summary>Remote paths are always '/'-separated, whatever the local OS.</summary>
    public static class RemotePath
    {
        public static string Combine(string directory, string name)
        {
            if (name.StartsWith("/", StringComparison.Ordinal)) return name;
            if (string.IsNullOrEmpty(directory) || directory == ".") return name;
            return directory.EndsWith("/", StringComparison.Ordinal) ? directory + name : directory + "/" + name;
        }

        public static string GetFileName(string path)
        {
            var p = path.TrimEnd('/');
            int i = p.LastIndexOf('/');
            return i >= 0 ? p.Substring(i + 1) : p;
        }

        public static string GetParent(string path)
        {
            var p = path.TrimEnd('/');
            int i = p.LastIndexOf('/');
            return i > 0 ? p.Substring(0, i) : i == 0 ? "/" : "";
        }
    }
}
