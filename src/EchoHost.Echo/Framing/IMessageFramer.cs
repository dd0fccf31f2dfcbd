using System.Buffers;

namespace EchoHost.Echo.Framing;

/// <summary>Cuts messages off the front of a buffer without copying them.</summary>
public interface IMessageFramer
{
    /// <summary>
    /// Takes one message off the front of <paramref name="buffer"/> when a whole one is there, and moves
    /// <paramref name="buffer"/> past it; otherwise leaves it as it was and returns false.
    /// </summary>
    bool TryReadMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message);
}
