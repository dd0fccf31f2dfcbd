namespace EchoHost.Connections.Limits;

/// <summary>
/// Bytes buffered by a listener's connections, against a budget. The runner charges what a connection holds
/// beyond one read: its unconsumed input (a line still arriving), and, while its client does not read, its worst
/// case, <see cref="StalledConnectionBytes"/> (replies wait in the output pipe, and the transport fills the input
/// pipe to its limit). Over the budget, new connections are turned away until the total is back under the
/// low-water mark (80%); connections already open keep being served.
/// </summary>
public sealed class MemoryBudget
{
    private long _held;
    private int _over;

    /// <param name="budget">Bytes all connections together may hold.</param>
    /// <param name="stalledConnectionBytes">What one connection holds at most while its client does not read.</param>
    public MemoryBudget(long budget, long stalledConnectionBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stalledConnectionBytes, 1);
        Budget = budget;
        StalledConnectionBytes = stalledConnectionBytes;
    }

    public long Budget { get; }

    public long LowWater => Budget / 10 * 8;

    public long StalledConnectionBytes { get; }

    public long Held => Volatile.Read(ref _held);

    /// <summary>True from when the total passes the budget until it is back under the low-water mark.</summary>
    public bool IsOver
    {
        get
        {
            var held = Held;
            if (held > Budget)
            {
                Volatile.Write(ref _over, 1);
            }
            else if (held < LowWater)
            {
                Volatile.Write(ref _over, 0);
            }

            return Volatile.Read(ref _over) == 1;
        }
    }

    /// <summary>Bytes a connection holds beyond one read, such as an unfinished line: positive to hold, negative to give back.</summary>
    public void Charge(long bytes) => Interlocked.Add(ref _held, bytes);

    public void ConnectionStalled() => Interlocked.Add(ref _held, StalledConnectionBytes);

    public void ConnectionResumed() => Interlocked.Add(ref _held, -StalledConnectionBytes);
}
