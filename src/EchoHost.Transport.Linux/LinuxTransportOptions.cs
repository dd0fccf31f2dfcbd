using System.Buffers;
using System.IO.Pipelines;

namespace EchoHost.Transport.Linux;

/// <param name="MemoryPool">Where both pipes of every connection take their blocks.</param>
/// <param name="MaxReadBufferSize">Input a connection may hold before reading from its socket pauses.</param>
/// <param name="MaxWriteBufferSize">Output a connection may hold before its protocol's flush waits.</param>
/// <param name="Threads">Reactors, each a thread.</param>
public sealed record LinuxTransportOptions(MemoryPool<byte> MemoryPool, long MaxReadBufferSize, long MaxWriteBufferSize, int Threads)
{
    /// <summary>How the reactors wait for and move bytes.</summary>
    public LinuxEngine Engine { get; init; } = LinuxEngine.Epoll;

    /// <summary>The input pipe's options, one instance for every connection: the reactor writes, the protocol reads.</summary>
    public PipeOptions InputPipe { get; } = Inline(MemoryPool, MaxReadBufferSize);

    /// <summary>The output pipe's options, one instance for every connection: the protocol writes, the send side reads.</summary>
    public PipeOptions OutputPipe { get; } = Inline(MemoryPool, MaxWriteBufferSize);

    private static PipeOptions Inline(MemoryPool<byte> pool, long limit) =>
        new(pool, PipeScheduler.Inline, PipeScheduler.Inline, limit, limit / 2, pool.MaxBufferSize, useSynchronizationContext: false);
}
