using System.Numerics;
using System.Runtime.InteropServices;

namespace EchoHost.Connections.Diagnostics;

/// <summary>
/// Messages and bytes, added to on every turn by whichever thread runs it. Each processor adds to a cache line of
/// its own: one shared line would move between the cores of every thread that serves connections, on every turn. A
/// scrape sums the lines.
/// </summary>
internal sealed class TrafficCounts
{
    private readonly Cell[] _cells = new Cell[(int)BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount)];

    public long Messages => Sum(static (ref Cell cell) => ref cell.Messages);

    public long Received => Sum(static (ref Cell cell) => ref cell.Received);

    public long Sent => Sum(static (ref Cell cell) => ref cell.Sent);

    private delegate ref long Field(ref Cell cell);

    public void AddMessages(long count) => Interlocked.Add(ref Mine().Messages, count);

    public void AddReceived(long bytes) => Interlocked.Add(ref Mine().Received, bytes);

    public void AddSent(long bytes) => Interlocked.Add(ref Mine().Sent, bytes);

    // Two threads may share a cell (a processor number read just before a migration), hence the atomic adds; on a
    // line this core already holds they cost a few cycles.
    private ref Cell Mine() => ref _cells[Thread.GetCurrentProcessorId() & (_cells.Length - 1)];

    private long Sum(Field field)
    {
        long total = 0;
        for (var i = 0; i < _cells.Length; i++)
        {
            total += Volatile.Read(ref field(ref _cells[i]));
        }

        return total;
    }

    // Two lines' worth, so that neighbouring cells stay apart even where the processor fetches lines in pairs.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Cell
    {
        [FieldOffset(0)]
        public long Messages;

        [FieldOffset(8)]
        public long Received;

        [FieldOffset(16)]
        public long Sent;
    }
}
