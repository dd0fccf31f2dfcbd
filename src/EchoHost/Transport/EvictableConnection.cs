using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport;

/// <summary>
/// A connection feature of listeners with a <see cref="ConnectionEviction"/>: the protocol says when a request starts
/// and ends, and only a connection between requests may be closed to make room.
/// </summary>
public sealed class EvictableConnection
{
    private readonly ConnectionEviction _eviction;

    internal EvictableConnection(ConnectionEviction eviction, ConnectionContext connection)
    {
        _eviction = eviction;
        Connection = connection;
        Node = new LinkedListNode<EvictableConnection>(this);
    }

    internal enum Phase
    {
        Waiting,
        Busy,
        Evicted,
        Closed,
    }

    internal ConnectionContext Connection { get; }

    internal LinkedListNode<EvictableConnection> Node { get; }

    internal Phase State { get; set; }

    public void RequestStarted() => _eviction.RequestStarted(this);

    public void RequestEnded() => _eviction.RequestEnded(this);
}
