using System.Buffers;
using System.Runtime.InteropServices;

namespace EchoHost.Buffers;

/// <summary>
/// A pool of fixed-size blocks for Kestrel's socket transport, larger than its default 4 KiB so that one
/// receive and one send move up to a block's worth of bytes. Blocks are pinned once, when first allocated, so
/// the socket layer never pins them again; returned blocks go to the process's <see cref="BlockStore"/>, which
/// bounds and trims what is kept for reuse.
/// </summary>
public sealed class LargeBlockMemoryPool(BlockStore store) : MemoryPool<byte>
{
    private volatile bool _disposed;

    public override int MaxBufferSize => store.BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, store.BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);

        if (store.TryTake(out var block))
        {
            block.Lease();
            return block;
        }

        return new Block(store);
    }

    protected override void Dispose(bool disposing) => _disposed = true;

    internal sealed class Block : IMemoryOwner<byte>
    {
        private readonly BlockStore _store;
        private int _leased = 1;

        public Block(BlockStore store)
        {
            _store = store;
            Memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(store.BlockSize, pinned: true), 0, store.BlockSize);
        }

        public Memory<byte> Memory { get; }

        public void Lease() => _leased = 1;

        // A second Dispose would put the block in the store twice and hand the same bytes to two owners.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 0)
            {
                throw new InvalidOperationException("The block was already returned to its pool.");
            }

            _store.Return(this);
        }
    }
}
