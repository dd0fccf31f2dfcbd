using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport;

/// <summary>
/// The connections of a listener that may be closed to make room when it is full: those with no request in
/// progress (still sending their first one, or idle between keep-alive requests), longest-waiting first. A probe that
/// arrives while slow clients hold every slot is then accepted at once rather than left in the backlog until a header
/// timeout frees one, and a client that keeps re-opening stalled requests mostly evicts its own. Requests are
/// marked through <see cref="EvictableConnection"/>, a connection feature the protocol sees.
/// </summary>
public sealed class ConnectionEviction
{
    /// <summary>Evicted connections still closing at most; the gate may hold that many over its capacity meanwhile.</summary>
    public const int ClosingLimit = 8;

    private readonly Lock _lock = new();
    private readonly LinkedList<EvictableConnection> _waiting = [];
    private int _closing;
    private long _evicted;

    /// <summary>Connections closed to make room since start.</summary>
    public long Evicted => Volatile.Read(ref _evicted);

    /// <summary>Whether one more connection may be accepted over the capacity, to be made room for by an eviction.</summary>
    public bool CanMakeRoom
    {
        get
        {
            lock (_lock)
            {
                return _closing < ClosingLimit && _waiting.Count > 0;
            }
        }
    }

    /// <summary>Starts tracking <paramref name="connection"/> as waiting for its first request.</summary>
    public void Track(ConnectionContext connection)
    {
        var evictable = new EvictableConnection(this, connection);
        lock (_lock)
        {
            _waiting.AddLast(evictable.Node);
        }

        connection.Features.Set(evictable);
    }

    /// <summary>Aborts the connection that has waited longest with no request in progress; false when there is none.</summary>
    public bool TryEvictOne()
    {
        EvictableConnection victim;
        lock (_lock)
        {
            if (_closing >= ClosingLimit || _waiting.First is not { } first)
            {
                return false;
            }

            victim = first.Value;
            _waiting.Remove(first);
            victim.State = EvictableConnection.Phase.Evicted;
            _closing++;
        }

        Interlocked.Increment(ref _evicted);
        victim.Connection.Abort(new ConnectionAbortedException("Closed to make room: the listener is full and this connection had no request in progress."));
        return true;
    }

    /// <summary>Stops tracking <paramref name="connection"/>: its socket is closed.</summary>
    public void Closed(ConnectionContext connection)
    {
        if (connection.Features.Get<EvictableConnection>() is not { } evictable)
        {
            return;
        }

        lock (_lock)
        {
            if (evictable.State == EvictableConnection.Phase.Evicted)
            {
                _closing--;
            }
            else if (evictable.State == EvictableConnection.Phase.Waiting)
            {
                _waiting.Remove(evictable.Node);
            }

            evictable.State = EvictableConnection.Phase.Closed;
        }
    }

    internal void RequestStarted(EvictableConnection evictable)
    {
        lock (_lock)
        {
            if (evictable.State == EvictableConnection.Phase.Waiting)
            {
                _waiting.Remove(evictable.Node);
                evictable.State = EvictableConnection.Phase.Busy;
            }
        }
    }

    internal void RequestEnded(EvictableConnection evictable)
    {
        lock (_lock)
        {
            if (evictable.State == EvictableConnection.Phase.Busy)
            {
                _waiting.AddLast(evictable.Node);
                evictable.State = EvictableConnection.Phase.Waiting;
            }
        }
    }
}
