using System.Buffers;

namespace EchoHost.Transport.Linux;

/// <param name="MemoryPool">Where both pipes of every connection take their blocks.</param>
/// <param name="MaxReadBufferSize">Input a connection may hold before reading from its socket pauses.</param>
/// <param name="MaxWriteBufferSize">Output a connection may hold before its protocol's flush waits.</param>
/// <param name="Threads">Epoll reactors, each a thread.</param>
internal sealed record EpollTransportOptions(MemoryPool<byte> MemoryPool, long MaxReadBufferSize, long MaxWriteBufferSize, int Threads);
