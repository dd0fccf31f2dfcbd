namespace EchoHost.Connections.Limits;

/// <summary>
/// Counts rejections and says when to report them: the first at once, then at most once per
/// <see cref="Interval"/> with the number since the last report, so a flood of connections cannot flood the log.
/// </summary>
public sealed class RejectionReport(TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private long _sinceReport;
    private long _nextReport = time.GetTimestamp();

    /// <returns>The rejections to report now, this one included; 0 when the report is not due.</returns>
    public long Count()
    {
        Interlocked.Increment(ref _sinceReport);
        var now = time.GetTimestamp();
        var due = Volatile.Read(ref _nextReport);
        var next = now + (long)(Interval.TotalSeconds * time.TimestampFrequency);
        return now >= due && Interlocked.CompareExchange(ref _nextReport, next, due) == due
            ? Interlocked.Exchange(ref _sinceReport, 0)
            : 0;
    }
}
