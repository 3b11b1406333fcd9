using System;
using System.Collections.Generic;

namespace SecureFtp
{
    public enum FtpItemType { File, Directory, Link, Other }

    /// <summary>One remote entry, from MLSD facts or a parsed LIST line.</summary>
    public sealed class FtpListItem
    {
        public string Name { get; set; } = "";

        /// <summary>Absolute remote path.</summary>
        public string FullName { get; set; } = "";

        public FtpItemType Type { get; set; }

        /// <summary>Size in bytes; null when the server did not say.</summary>
        public long? Length { get; set; }

        /// <summary>UTC modification time; null when unknown.</summary>
        public DateTime? LastWriteTime { get; set; }

        /// <summary>Unix permissions string ("rwxr-xr-x") or MLSD perm fact, as given.</summary>
        public string? Permissions { get; set; }

        public string? Owner { get; set; }
        public string? Group { get; set; }

        /// <summary>Link target for symbolic links in LIST output.</summary>
        public string? LinkTarget { get; set; }

        /// <summary>All MLSD facts, lower-case names.</summary>
        public IDictionary<string, string> Facts { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The line the server sent.</summary>
        public string? RawLine { get; set; }

        public override string ToString() => FullName;
    }
}
