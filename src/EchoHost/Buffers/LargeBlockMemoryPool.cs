using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace EchoHost.Buffers;

/// <summary>
/// A pool of fixed-size blocks for Kestrel's socket transport, larger than its default 4 KiB so that one
/// receive and one send move up to a block's worth of bytes. Blocks are pinned once, when first allocated, so
/// the socket layer never pins them again; returned blocks are reused, and at most
/// <see cref="MaxRetainedBlocks"/> are kept when a burst is over, the rest are left to the GC.
/// </summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;
    private volatile bool _disposed;

    public LargeBlockMemoryPool(int blockSize, int maxRetainedBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        BlockSize = blockSize;
        MaxRetainedBlocks = maxRetainedBlocks;
    }

    public int BlockSize { get; }

    public int MaxRetainedBlocks { get; }

    /// <summary>Blocks returned and kept for reuse.</summary>
    public int RetainedBlocks => Volatile.Read(ref _retained);

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);

        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Lease();
            return block;
        }

        return new Block(this, BlockSize);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return;
        }

        if (Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
            return;
        }

        Interlocked.Decrement(ref _retained);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly LargeBlockMemoryPool _pool;
        private int _leased = 1;

        public Block(LargeBlockMemoryPool pool, int size)
        {
            _pool = pool;
            Memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(size, pinned: true), 0, size);
        }

        public Memory<byte> Memory { get; }

        public void Lease() => _leased = 1;

        // A second Dispose would put the block in the pool twice and hand the same bytes to two owners.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 0)
            {
                throw new InvalidOperationException("The block was already returned to its pool.");
            }

            _pool.Return(this);
        }
    }
}
