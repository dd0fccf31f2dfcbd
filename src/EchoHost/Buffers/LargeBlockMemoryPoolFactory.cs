using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Buffers;

/// <summary>Hands Kestrel a <see cref="LargeBlockMemoryPool"/> wherever it asks for a memory pool.</summary>
public sealed class LargeBlockMemoryPoolFactory(int blockSize, int maxRetainedBlocks) : IMemoryPoolFactory<byte>
{
    private int _createdPools;

    /// <summary>How many pools Kestrel has asked for: zero after start-up means it no longer consults the factory.</summary>
    public int CreatedPools => Volatile.Read(ref _createdPools);

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        Interlocked.Increment(ref _createdPools);
        return new LargeBlockMemoryPool(blockSize, maxRetainedBlocks);
    }
}
