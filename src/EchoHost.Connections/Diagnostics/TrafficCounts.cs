using System.Numerics;

namespace EchoHost.Connections.Diagnostics;

/// <summary>
/// Messages and bytes, added to on every turn by whichever thread runs it. Each processor adds to a cache line of
/// its own: one shared line would move between the cores of every thread that serves connections, on every turn. A
/// scrape sums the lines.
/// </summary>
internal sealed class TrafficCounts
{
    private const int MessagesAt = 0;
    private const int ReceivedAt = 1;
    private const int SentAt = 2;

    // Two lines' worth of longs per processor, so that neighbours stay apart even where lines are fetched in pairs.
    private const int Stride = 16;

    private readonly int _cellMask = (int)BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount) - 1;
    private readonly long[] _counts;

    public TrafficCounts() => _counts = new long[(_cellMask + 1) * Stride];

    public long Messages => Sum(MessagesAt);

    public long Received => Sum(ReceivedAt);

    public long Sent => Sum(SentAt);

    public void AddMessages(long count) => Interlocked.Add(ref _counts[CellStart() + MessagesAt], count);

    /// <summary>A turn's bytes both ways, with one look-up of the processor's cell.</summary>
    public void AddTransferred(long received, long sent)
    {
        var cell = CellStart();
        if (received > 0)
        {
            Interlocked.Add(ref _counts[cell + ReceivedAt], received);
        }

        if (sent > 0)
        {
            Interlocked.Add(ref _counts[cell + SentAt], sent);
        }
    }

    // Two threads may share a cell (a processor number read just before a migration), hence the atomic adds; on a
    // line this core already holds they cost a few cycles.
    private int CellStart() => (Thread.GetCurrentProcessorId() & _cellMask) * Stride;

    private long Sum(int field)
    {
        long total = 0;
        for (var at = field; at < _counts.Length; at += Stride)
        {
            total += Volatile.Read(ref _counts[at]);
        }

        return total;
    }
}
