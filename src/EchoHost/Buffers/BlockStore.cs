using System.Collections.Concurrent;

namespace EchoHost.Buffers;

/// <summary>
/// The free 16 KiB blocks of every <see cref="LargeBlockMemoryPool"/> in the process, kept in one place so
/// that retention is bounded per process (Kestrel asks for a pool per listener and I/O queue, the health
/// listener's included), and given back over time: every <see cref="TrimInterval"/>, the blocks that stayed
/// free the whole interval are released to the GC, so a burst's buffers are gone within a minute or two of quiet.
/// </summary>
public sealed class BlockStore : IDisposable
{
    public static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<LargeBlockMemoryPool.Block> _free = new();
    private readonly ITimer _trim;
    private int _retained;
    private int _lowest;

    public BlockStore(int blockSize, int maxRetainedBlocks, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        ArgumentNullException.ThrowIfNull(time);
        BlockSize = blockSize;
        MaxRetainedBlocks = maxRetainedBlocks;
        _trim = time.CreateTimer(static state => ((BlockStore)state!).Trim(), this, TrimInterval, TrimInterval);
    }

    public int BlockSize { get; }

    public int MaxRetainedBlocks { get; }

    /// <summary>Blocks returned and kept for reuse, by all pools together.</summary>
    public int RetainedBlocks => Volatile.Read(ref _retained);

    public void Dispose()
    {
        _trim.Dispose();
        _free.Clear();
    }

    internal bool TryTake(out LargeBlockMemoryPool.Block block)
    {
        if (!_free.TryDequeue(out block!))
        {
            return false;
        }

        var retained = Interlocked.Decrement(ref _retained);
        var lowest = Volatile.Read(ref _lowest);
        while (retained < lowest)
        {
            var seen = Interlocked.CompareExchange(ref _lowest, retained, lowest);
            if (seen == lowest)
            {
                break;
            }

            lowest = seen;
        }

        return true;
    }

    internal void Return(LargeBlockMemoryPool.Block block)
    {
        if (Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
            return;
        }

        Interlocked.Decrement(ref _retained);
    }

    // The lowest count since the last trim is how many blocks nobody needed during the whole interval.
    private void Trim()
    {
        var idle = Math.Min(Interlocked.Exchange(ref _lowest, int.MaxValue), RetainedBlocks);
        for (var i = 0; i < idle && _free.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _retained);
        }

        var retained = RetainedBlocks;
        Interlocked.CompareExchange(ref _lowest, retained, int.MaxValue);
    }
}
