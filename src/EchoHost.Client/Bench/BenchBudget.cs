namespace EchoHost.Client.Bench;

/// <summary>How many requests the run may still start, over all connections; unlimited for a timed run.</summary>
internal sealed class BenchBudget(long requests)
{
    private long _remaining = requests > 0 ? requests : long.MaxValue;

    public bool TryTake() => Interlocked.Decrement(ref _remaining) >= 0;

    /// <summary>Every request has been started.</summary>
    public bool Spent => Volatile.Read(ref _remaining) <= 0;
}
