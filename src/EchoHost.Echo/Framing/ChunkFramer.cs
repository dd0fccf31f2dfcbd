using System.Buffers;

namespace EchoHost.Echo.Framing;

/// <summary>Every read is one message, like asyncio's <c>data_received</c>.</summary>
public sealed class ChunkFramer : IMessageFramer
{
    public static ChunkFramer Instance { get; } = new();

    private ChunkFramer()
    {
    }

    public bool TryReadMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        message = buffer;
        if (buffer.IsEmpty)
        {
            return false;
        }

        buffer = buffer.Slice(buffer.End);
        return true;
    }
}
