using System.Buffers;

namespace EchoHost.Connections;

/// <summary>The output of a turn on the receiving thread (<see cref="IInlineReceiveFeature.BeginOutput"/>).</summary>
public interface IInlineOutput : IBufferWriter<byte>
{
    /// <summary>Fewer bytes are copied wherever they come from: a piece of their own would cost the send more than the copy.</summary>
    const int ForwardMinimum = 512;

    /// <summary>
    /// Writes <paramref name="bytes"/> after what the turn wrote so far. Bytes of the turn's own input (the sequence
    /// it was given, or a slice of it) stay where they were received until the turn ends, so the transport may send
    /// them from there instead of copying them; any other bytes are copied, as a write would.
    /// </summary>
    void Forward(in ReadOnlySequence<byte> bytes);

    /// <summary>Copies <paramref name="bytes"/> after what the turn wrote so far, in one call where a buffer writer's get and advance take two.</summary>
    void Write(ReadOnlySpan<byte> bytes);
}
