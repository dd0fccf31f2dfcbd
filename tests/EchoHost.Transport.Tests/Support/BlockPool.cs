using System.Buffers;

namespace EchoHost.Transport.Tests.Support;

/// <summary>
/// Fixed 16 KiB blocks, as the host's pool hands out, so a test sees the blocks a pipe holds as it would; it counts
/// the blocks rented and not yet given back.
/// </summary>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 16 * 1024;

    private int _outstanding;

    public override int MaxBufferSize => BlockSize;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        Interlocked.Increment(ref _outstanding);
        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockPool pool) : IMemoryOwner<byte>
    {
        private int _returned;

        public Memory<byte> Memory { get; } = new byte[BlockSize];

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                Interlocked.Decrement(ref pool._outstanding);
            }
        }
    }
}
