using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace SecureFtp.Server
{
    /// <summary>Maps FTP paths onto a directory and keeps them inside it. A path is resolved textually first
    /// (".." never climbs above "/", absolute paths start at the root), then every existing component below the
    /// root is checked not to be a symbolic link, so no link (made by a user or already there) leads out.</summary>
    internal sealed class RootFileSystem
    {
        private static readonly char[] InvalidNameChars = Path.GetInvalidFileNameChars();

        public RootFileSystem(string root)
        {
            RootDirectory = Path.GetFullPath(root);
            if (!Directory.Exists(RootDirectory))
                throw new FtpException(FtpErrorKind.NotFound, "ServerRootNotFound", $"The server root '{RootDirectory}' does not exist or is not a directory.");
        }

        public string RootDirectory { get; }

        /// <summary>Resolves <paramref name="path"/> against the current directory <paramref name="cwd"/> (both FTP paths)
        /// into a normalized FTP path ("/" or "/a/b"). Throws <see cref="FtpException"/> (PermissionDenied) for names the
        /// local file system cannot hold.</summary>
        public static string Normalize(string cwd, string path)
        {
            var segments = new List<string>();
            string combined = path.StartsWith("/", StringComparison.Ordinal) ? path : cwd.TrimEnd('/') + "/" + path;
            foreach (var segment in combined.Split('/'))
            {
                if (segment.Length == 0 || segment == ".") continue;
                if (segment == "..")
                {
                    if (segments.Count > 0) segments.RemoveAt(segments.Count - 1);
                    continue;
                }
                if (segment.IndexOfAny(InvalidNameChars) >= 0 || segment.Trim('.').Length == 0)
                    throw new FtpException(FtpErrorKind.PermissionDenied, "InvalidServerPath", $"'{segment}' is not a valid file name here.");
                segments.Add(segment);
            }
            return "/" + string.Join("/", segments);
        }

        /// <summary>The local path of a normalized FTP path, after checking that no component below the root is a
        /// symbolic link (a link could point anywhere, so none is followed).</summary>
        public string ToLocal(string ftpPath)
        {
            string local = RootDirectory;
            foreach (var segment in ftpPath.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                local = Path.Combine(local, segment);
                var info = new FileInfo(local);
                if (info.Exists || Directory.Exists(local))
                {
                    if ((File.GetAttributes(local) & FileAttributes.ReparsePoint) != 0)
                        throw new FtpException(FtpErrorKind.PermissionDenied, "SymbolicLinkRefused", $"'{ftpPath}' goes through a symbolic link, which this server does not follow.");
                }
            }
            return local;
        }

        /// <summary>True for an entry that a listing may show: symbolic links are listed as links only.</summary>
        public static bool IsLink(FileSystemInfo info) => (info.Attributes & FileAttributes.ReparsePoint) != 0;

        public static IEnumerable<FileSystemInfo> Entries(string localDirectory)
            => new DirectoryInfo(localDirectory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal);
    }
}
