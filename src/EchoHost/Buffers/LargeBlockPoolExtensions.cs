using Microsoft.AspNetCore.Connections;

namespace EchoHost.Buffers;

public static class LargeBlockPoolExtensions
{
    /// <summary>The size of one receive and one send: the raw-socket baseline's buffer size.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>What the process keeps for reuse after a burst, all pools together: 8 MiB, trimmed when idle.</summary>
    public const int MaxRetainedBlocks = 512;

    /// <summary>
    /// Replaces Kestrel's 4 KiB pool blocks with 16 KiB ones. A streaming client's bytes then arrive and leave
    /// in a quarter of the socket calls, which roughly halves the server's CPU per 16 KiB message
    /// (<c>bench/results/2026-11-25-blocks.md</c>). Idle connections hold
    /// no block (Kestrel waits for data before it rents one), so their memory does not change.
    /// </summary>
    public static IServiceCollection AddLargeTransportBlocks(this IServiceCollection services)
    {
        services.AddSingleton(provider => new BlockStore(BlockSize, MaxRetainedBlocks, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IMemoryPoolFactory<byte>>(provider => new LargeBlockMemoryPoolFactory(provider.GetRequiredService<BlockStore>()));
        return services;
    }
}
