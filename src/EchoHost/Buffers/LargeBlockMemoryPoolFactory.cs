using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Buffers;

/// <summary>Hands Kestrel a <see cref="LargeBlockMemoryPool"/> over the one <see cref="BlockStore"/> wherever it asks for a memory pool.</summary>
public sealed class LargeBlockMemoryPoolFactory(BlockStore store) : IMemoryPoolFactory<byte>
{
    private int _createdPools;

    /// <summary>How many pools Kestrel has asked for: zero after start-up means it no longer consults the factory.</summary>
    public int CreatedPools => Volatile.Read(ref _createdPools);

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        Interlocked.Increment(ref _createdPools);
        return new LargeBlockMemoryPool(store);
    }
}
