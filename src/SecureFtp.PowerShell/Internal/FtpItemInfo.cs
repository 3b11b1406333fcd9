using SecureFtp.Listing;
using System;
using System.Collections.Generic;

namespace SecureFtp.PowerShell
{
    /// <summary>A remote file or directory, shaped like Get-ChildItem's output so it reads and pipes the same way:
    /// Receive-FtpFile, Remove-FtpItem and the others bind FullName, Type, RelativePath and Session from it.</summary>
    public sealed class FtpItemInfo
    {
        internal FtpItemInfo(FtpListItem item, FtpSession session, string? relativePath)
        {
            Name = item.Name;
            FullName = item.FullName;
            Type = item.Type;
            Length = item.Length;
            LastWriteTimeUtc = item.LastWriteTime;
            Permissions = item.Permissions;
            Owner = item.Owner;
            Group = item.Group;
            LinkTarget = item.LinkTarget;
            Facts = item.Facts;
            Session = session;
            RelativePath = relativePath ?? item.Name;
            UnsafeNameReason = LocalPathGuard.WhyUnsafe(item.Name);
        }

        /// <summary>The name exactly as the server sent it.</summary>
        public string Name { get; }

        /// <summary>The name as the format view shows it: control characters (terminal escape sequences) and
        /// bidirectional overrides replaced, so a hostile listing cannot rewrite the screen.</summary>
        public string DisplayName => TerminalText.Sanitize(LinkTarget != null ? Name + " -> " + LinkTarget : Name);

        /// <summary>Why this name cannot become a local file name (a path separator, "..", a control character,
        /// a Windows device name...), or null when it can. Receive-FtpFile refuses such items one by one.</summary>
        public string? UnsafeNameReason { get; }

        /// <summary>Absolute remote path.</summary>
        public string FullName { get; }

        /// <summary>The remote directory holding the item (the group heading of the table view).</summary>
        public string Directory => RemotePath.GetParent(FullName);

        /// <summary>The path below the directory that Get-FtpChildItem listed; Receive-FtpFile recreates it locally.</summary>
        public string RelativePath { get; }

        public FtpItemType Type { get; }
        public bool IsDirectory => Type == FtpItemType.Directory;
        public long? Length { get; }
        public DateTime? LastWriteTimeUtc { get; }
        public DateTime? LastWriteTime => LastWriteTimeUtc?.ToLocalTime();
        public string? Permissions { get; }
        public string? Owner { get; }
        public string? Group { get; }
        public string? LinkTarget { get; }

        /// <summary>Mode column as Get-ChildItem shows it: d, l or - followed by the permissions when known.</summary>
        public string Mode => (Type == FtpItemType.Directory ? "d" : Type == FtpItemType.Link ? "l" : "-") + (Permissions != null && Permissions.Length == 9 ? Permissions : "");

        public IDictionary<string, string> Facts { get; }
        public FtpSession Session { get; }
        public string ComputerName => Session.ComputerName;

        public override string ToString() => FullName;
    }

    /// <summary>The output of Get-FtpFileHash, shaped like Get-FileHash's.</summary>
    public sealed class FtpFileHashInfo
    {
        internal FtpFileHashInfo(string algorithm, string hash, string path, string source)
        {
            Algorithm = algorithm;
            Hash = hash;
            Path = path;
            Source = source;
        }

        public string Algorithm { get; }

        /// <summary>Upper-case hex, as Get-FileHash writes it, so the two compare with -eq.</summary>
        public string Hash { get; }

        public string Path { get; }

        /// <summary>"Server" when the server computed it (HASH, XSHA*), "Download" when computed by reading the file.</summary>
        public string Source { get; }
    }
}
