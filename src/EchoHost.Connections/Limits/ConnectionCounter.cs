using EchoHost.Connections.Diagnostics;

namespace EchoHost.Connections.Limits;

/// <summary>
/// Open connections against a limit, after Kestrel's <c>ResourceCounter</c>: a slot is taken with
/// compare-and-swap, so the count never passes the limit even for an instant and a free slot is never refused.
/// </summary>
public sealed class ConnectionCounter
{
    private int _count;

    /// <param name="limit">Connections open at once; 0 admits none.</param>
    /// <param name="description">The limit in words, for the rejection warning: <c>Echo:MaxConnections=10000</c>.</param>
    /// <param name="rejectionReason">The metrics' reason for a connection turned away by it.</param>
    public ConnectionCounter(int limit, string description, string rejectionReason = RejectionReasons.MaxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
        Description = description;
        RejectionReason = rejectionReason;
    }

    public int Limit { get; }

    public string Description { get; }

    public string RejectionReason { get; }

    public int Count => Volatile.Read(ref _count);

    public bool TryAcquire()
    {
        var count = Volatile.Read(ref _count);
        while (count < Limit)
        {
            var seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    public void Release()
    {
        var count = Interlocked.Decrement(ref _count);
        if (count < 0)
        {
            throw new InvalidOperationException("A connection slot was released more often than it was taken.");
        }
    }
}
