using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Security
{
    /// <summary>A security session that can begin protecting a data connection before the connection exists. The
    /// client starts it on a worker thread as the transfer begins, so the CPU work (a TLS ClientHello and its key
    /// share) overlaps the round trips to the server's 1xx reply instead of following it. Nothing goes on the
    /// wire until <see cref="IPreparedDataStream.OpenAsync"/>, so the exchange is byte for byte what it was.</summary>
    internal interface IPreparesDataStreams
    {
        /// <summary>Null when there is nothing to prepare for this level and role (the caller then uses
        /// <see cref="ISecuritySession.OpenDataStreamAsync"/>).</summary>
        IPreparedDataStream? PrepareDataStream(DataProtectionLevel level, DataStreamRole role);
    }

    /// <summary>A data connection's protection, begun. Dispose it unopened when the server refused the transfer.</summary>
    internal interface IPreparedDataStream : IDisposable
    {
        /// <summary>Runs the protection on <paramref name="raw"/>, which it then owns.</summary>
        Task<Stream> OpenAsync(Stream raw, CancellationToken ct);
    }
}
