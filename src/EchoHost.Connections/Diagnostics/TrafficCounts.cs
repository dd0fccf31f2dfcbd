using System.Numerics;
using System.Runtime.CompilerServices;

namespace EchoHost.Connections.Diagnostics;

/// <summary>
/// Messages and bytes, added to on every turn by whichever thread runs it. Each thread adds to a cell of its own, two
/// cache lines wide: one shared line would move between the cores of every thread that serves connections, on every
/// turn. A scrape sums the cells.
/// </summary>
internal sealed class TrafficCounts
{
    private const int MessagesAt = 0;
    private const int ReceivedAt = 1;
    private const int SentAt = 2;

    // Two lines' worth of longs per cell, so that neighbours stay apart even where lines are fetched in pairs.
    private const int Stride = 16;

    // A thread takes a number the first time it adds, and keeps it. Cells are per thread rather than per processor:
    // asking which processor runs the thread is a call into the vDSO on every turn.
    [ThreadStatic]
    private static int t_thread;
    private static int s_threads;

    // Room for a busy thread per processor and as many others before two threads share a cell.
    private readonly int _cellMask = (int)BitOperations.RoundUpToPowerOf2(2 * (uint)Environment.ProcessorCount) - 1;
    private readonly long[] _counts;

    public TrafficCounts() => _counts = new long[(_cellMask + 1) * Stride];

    public long Messages => Sum(MessagesAt);

    public long Received => Sum(ReceivedAt);

    public long Sent => Sum(SentAt);

    public void AddMessages(long count) => Interlocked.Add(ref _counts[CellStart() + MessagesAt], count);

    /// <summary>A turn's bytes both ways, with one look-up of the thread's cell.</summary>
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

    // Threads beyond the cells share them, hence the atomic adds; on a line this core already holds they cost a few
    // cycles.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CellStart()
    {
        var thread = t_thread;
        if (thread == 0)
        {
            thread = t_thread = Interlocked.Increment(ref s_threads);
        }

        return (thread & _cellMask) * Stride;
    }

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
