using System.Buffers;
using System.Net;

namespace EchoHost.Connections.Protocols;

/// <summary>
/// What a protocol may do to its connection, after asyncio's <c>Transport</c>: see the peer, write, close.
/// Writes are buffered; the connection flushes them once per read, so a protocol never waits on the socket.
/// </summary>
public interface IProtocolTransport
{
    /// <summary>The peer's address, or <see langword="null"/> when the transport has none (in-memory pipes).</summary>
    EndPoint? RemoteEndPoint { get; }

    void Write(ReadOnlySpan<byte> data);

    void Write(in ReadOnlySequence<byte> data);

    /// <summary>
    /// Closes gracefully: what was written is flushed, then the connection sends FIN and stops reading.
    /// </summary>
    void Close();
}
