using System.Buffers;

namespace EchoHost.Connections.Protocols;

/// <summary>
/// A per-connection protocol object, after asyncio's <c>Protocol</c>, shaped for pipelines: it is handed the
/// buffered input and says how far it consumed, so a partial message stays in the pipe instead of being copied.
/// </summary>
public interface IConnectionProtocol
{
    void ConnectionMade(IProtocolTransport transport);

    /// <summary>
    /// Handles the bytes received so far and returns the position up to which they are consumed.
    /// Bytes after that position are offered again, with whatever arrives next.
    /// </summary>
    SequencePosition DataReceived(in ReadOnlySequence<byte> data);

    /// <summary>The peer sent FIN (or the server is shutting down); <paramref name="unconsumed"/> is what is left.</summary>
    void EofReceived(in ReadOnlySequence<byte> unconsumed);

    /// <summary>The connection is gone; <paramref name="exception"/> is null for an orderly close.</summary>
    void ConnectionLost(Exception? exception);
}
