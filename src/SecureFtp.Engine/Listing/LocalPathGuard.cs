using System;
using System.IO;
using System.Text;

namespace SecureFtp.Listing
{
    /// <summary>The one gate between names a server supplies (listings, recursive downloads, Sync) and local paths.
    /// A hostile server can put anything in a LIST line: "../../x", an absolute path, "sub/x" (a name that walks
    /// through a directory), control characters, or a name Windows turns into a device. None of those may decide
    /// where a file is written: each name must be a single, portable path segment, and the combined path must
    /// still lie inside the destination the user chose. The rules are the same on every OS, so a script that works
    /// on Linux does not start writing elsewhere on Windows (the one exception: ':' and the wildcard characters, legal
    /// on Unix, are refused only on Windows).</summary>
    public static class LocalPathGuard
    {
        /// <summary>NAME_MAX of the common local file systems (ext4, XFS, NTFS count about this much), in UTF-8 bytes.</summary>
        public const int MaxNameBytes = 255;

        /// <summary>The error id of every refusal, so scripts can tell a hostile name from other failures.</summary>
        public const string UnsafeNameErrorId = "UnsafeRemoteName";

        private static readonly string[] ReservedDeviceNames =
        {
            "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
            "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM\u00B9", "COM\u00B2", "COM\u00B3",
            "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
        };

        /// <summary>Why <paramref name="name"/> cannot be one local path segment, or null when it can.</summary>
        public static string? WhyUnsafe(string? name)
        {
            if (string.IsNullOrEmpty(name)) return "it is empty";
            if (name == "." || name == "..") return $"'{name}' names a directory itself, not an entry in it";
            foreach (char c in name!)
            {
                if (c == '/' || c == '\\') return "it contains a path separator ('/' or '\\')";
                if (c == '\0') return "it contains a NUL character";
                if (IsControl(c)) return "it contains a control character";
                if (OnWindows && (c == ':' || c == '<' || c == '>' || c == '"' || c == '|' || c == '?' || c == '*'))
                    return $"it contains '{c}', which Windows file names cannot hold (a ':' also selects an alternate data stream)";
            }
            char last = name[name.Length - 1];
            if (last == '.' || last == ' ') return "it ends with a dot or a space, which Windows strips (the file would land under another name)";
            if (IsReservedDeviceName(name)) return "it is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)";
            if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes) return $"it is longer than {MaxNameBytes} bytes";
            return null;
        }

        /// <summary>Throws the per-item error for an unsafe name; <paramref name="entry"/> is the remote path shown in it.</summary>
        public static void CheckName(string name, string entry)
        {
            string? why = WhyUnsafe(name);
            if (why != null) throw Refusal(entry, why);
        }

        /// <summary>The local path for <paramref name="relativePath"/> ('/'-separated names from a listing) below
        /// <paramref name="root"/>. Every segment must be a safe name, and the full result must stay inside root.</summary>
        public static string ResolveUnder(string root, string relativePath, string? entry = null)
        {
            entry ??= relativePath;
            if (relativePath.Length == 0) throw Refusal(entry, "it is empty");
            string fullRoot = Path.GetFullPath(root);
            string path = fullRoot;
            foreach (var segment in relativePath.Split('/'))
            {
                string? why = WhyUnsafe(segment);
                if (why != null) throw Refusal(entry, why);
                path = Path.Combine(path, segment);
            }
            // Belt and braces: whatever the segment rules miss, the result must lie inside the root.
            string full = Path.GetFullPath(path);
            if (!IsInside(fullRoot, full)) throw Refusal(entry, "it would be written outside the destination folder");
            return full;
        }

        /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies below it (both full paths).</summary>
        public static bool IsInside(string root, string path)
        {
            var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            string r = root.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            if (string.Equals(r, path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar), comparison)) return true;
            return path.StartsWith(r + Path.DirectorySeparatorChar, comparison);
        }

        // ':' and the wildcard characters are ordinary on Unix file systems (timestamps in names are common), so only
        // Windows refuses them; the names the hostile-peers review listed are refused everywhere.
        private static readonly bool OnWindows = Path.DirectorySeparatorChar == '\\';

        private static bool IsControl(char c) => c < 0x20 || (c >= 0x7F && c <= 0x9F);

        private static bool IsReservedDeviceName(string name)
        {
            // Windows treats "CON", "con.txt" and "CON .log" alike: the part before the first dot, trailing spaces removed.
            int dot = name.IndexOf('.');
            string stem = (dot >= 0 ? name.Substring(0, dot) : name).TrimEnd(' ');
            foreach (var reserved in ReservedDeviceNames)
                if (string.Equals(stem, reserved, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }

        /// <summary>The per-item error for a server entry that cannot be written locally.</summary>
        public static FtpException Refusal(string entry, string why)
            => new FtpException(FtpErrorKind.Protocol, UnsafeNameErrorId,
                $"Refused the server's entry '{TerminalText.Sanitize(entry)}': {why}. It was not written locally.");
    }

    /// <summary>Text from a server made safe to show on a terminal: control characters (which include the ESC that
    /// starts terminal escape sequences, and C1 controls such as CSI) and bidirectional overrides are replaced, so a
    /// listing or an error message cannot move the cursor, retitle the window or disguise a name. Display only: the
    /// objects keep the raw text.</summary>
    public static class TerminalText
    {
        public static string Sanitize(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text ?? "";
            StringBuilder? sb = null;
            for (int i = 0; i < text!.Length; i++)
            {
                char c = text[i];
                bool unsafeChar = c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
                if (!unsafeChar) { sb?.Append(c); continue; }
                sb ??= new StringBuilder(text, 0, i, text.Length + 8);
                // The Unicode control pictures show which control it was without acting as one.
                sb.Append(c < 0x20 ? (char)(0x2400 + c) : c == 0x7F ? '\u2421' : '\uFFFD');
            }
            return sb?.ToString() ?? text;
        }
    }
}
