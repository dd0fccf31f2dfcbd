namespace EchoHost.Protocol.Connections;

/// <summary>
/// The echo listener's connections: how many are open, the <c>Echo:MaxConnections</c> limit, and the
/// rejections over it, reported at most once per <see cref="RejectionReportInterval"/> so a flood of
/// connections cannot flood the log too.
/// </summary>
public sealed class EchoConnections
{
    public static readonly TimeSpan RejectionReportInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private int _active;
    private long _rejectedSinceReport;
    private long _nextReportTimestamp;
    private int _closedByShutdown;

    public EchoConnections(int maxConnections, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        ArgumentNullException.ThrowIfNull(time);
        MaxConnections = maxConnections;
        _time = time;
        _nextReportTimestamp = time.GetTimestamp();
    }

    public int MaxConnections { get; }

    public int Active => Volatile.Read(ref _active);

    /// <summary>Connections that were open when shutdown began and were closed by it.</summary>
    public int ClosedByShutdown => Volatile.Read(ref _closedByShutdown);

    /// <summary>
    /// Takes a slot, or counts a rejection. <paramref name="rejectionsToReport"/> is non-zero when a
    /// rejection should be logged now: the number of rejections since the last report.
    /// </summary>
    public bool TryOpen(out long rejectionsToReport)
    {
        rejectionsToReport = 0;
        if (Interlocked.Increment(ref _active) <= MaxConnections)
        {
            return true;
        }

        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _rejectedSinceReport);

        var now = _time.GetTimestamp();
        var due = Volatile.Read(ref _nextReportTimestamp);
        var next = now + (long)(RejectionReportInterval.TotalSeconds * _time.TimestampFrequency);
        if (now >= due && Interlocked.CompareExchange(ref _nextReportTimestamp, next, due) == due)
        {
            rejectionsToReport = Interlocked.Exchange(ref _rejectedSinceReport, 0);
        }

        return false;
    }

    public void Close(ConnectionEndReason reason)
    {
        if (reason == ConnectionEndReason.ServerShutdown)
        {
            Interlocked.Increment(ref _closedByShutdown);
        }

        Interlocked.Decrement(ref _active);
    }
}
