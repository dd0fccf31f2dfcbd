using System.Buffers;

namespace EchoHost.Connections;

/// <summary>The runner's side of <see cref="IInlineReceiveFeature"/>, called on the transport's receiving thread.</summary>
public interface IInlineReceiver
{
    /// <summary>True while the receiver waits for input and may be handed it inline.</summary>
    bool IsParked { get; }

    /// <summary>
    /// One inline turn over <paramref name="data"/>: returns how many of its bytes were consumed, the rest being the
    /// transport's to put in the input pipe, or <see langword="null"/> when the receiver is no longer parked and
    /// all of it goes there.
    /// </summary>
    int? Receive(in ReadOnlySequence<byte> data);

    /// <summary>The input pipe has something for the receiver (its end): a parked receiver reads it now.</summary>
    void Wake();
}
