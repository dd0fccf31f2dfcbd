namespace EchoHost.Connections.Limits;

/// <summary>
/// Open connections against a limit, after Kestrel's <c>ResourceCounter</c>: a slot is taken with
/// compare-and-swap, so the count never passes the limit even for an instant and a free slot is never refused.
/// </summary>
public sealed class ConnectionCounter
{
    private int _count;

    public ConnectionCounter(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
    }

    public int Limit { get; }

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
