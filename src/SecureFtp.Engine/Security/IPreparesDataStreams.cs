using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SecureFtp.Security
{
    /// <summary>A security session that can begin protecting a data connection before the server is ready for it.
    /// The client calls it right after sending the transfer command, so CPU work (a TLS ClientHello and its key
    /// share) overlaps the server's round trip to the 1xx reply instead of following it. Nothing goes on the wire
    /// until <see cref="IPreparedDataStream.OpenAsync"/>, so the exchange is byte for byte what it was.</summary>
    internal interface IPreparesDataStreams
    {
        /// <summary>Null when there is nothing to prepare for this level and role (the caller then uses
        /// <see cref="ISecuritySession.OpenDataStreamAsync"/>). Takes ownership of <paramref name="raw"/>.</summary>
        IPreparedDataStream? PrepareDataStream(Stream raw, DataProtectionLevel level, DataStreamRole role);
    }

    /// <summary>A data connection's protection, begun. Dispose it unopened when the server refused the transfer.</summary>
    internal interface IPreparedDataStream : IDisposable
    {
        Task<Stream> OpenAsync(CancellationToken ct);
    }
}
