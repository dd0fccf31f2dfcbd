using System.Buffers;

namespace EchoHost.Echo.Framing;

/// <summary>
/// A message is one line up to and including its LF (a CR before it is data). A line that reaches
/// <see cref="MaxLineBytes"/> without an LF is cut there, so memory stays bounded and no byte is lost.
/// </summary>
public sealed class LineFramer : IMessageFramer
{
    private const byte LineFeed = (byte)'\n';

    public LineFramer(int maxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        MaxLineBytes = maxLineBytes;
    }

    /// <summary>The largest message, LF included.</summary>
    public int MaxLineBytes { get; }

    public bool TryReadMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        if (buffer.IsSingleSegment)
        {
            return TryReadMessage(buffer.FirstSpan, ref buffer, out message);
        }

        // Only the first MaxLineBytes can hold this message's LF: never scan further than that.
        var window = buffer.Length > MaxLineBytes ? buffer.Slice(0, MaxLineBytes) : buffer;
        var reader = new SequenceReader<byte>(window);

        if (reader.TryAdvanceTo(LineFeed, advancePastDelimiter: true))
        {
            message = window.Slice(0, reader.Position);
        }
        else if (window.Length == MaxLineBytes)
        {
            message = window;
        }
        else
        {
            message = default;
            return false;
        }

        buffer = buffer.Slice(message.End);
        return true;
    }

    // The same for a buffer in one piece (every read that fits one block), scanned as a span.
    private bool TryReadMessage(ReadOnlySpan<byte> span, ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        var window = Math.Min(span.Length, MaxLineBytes);
        var lineFeed = span[..window].IndexOf(LineFeed);
        if (lineFeed < 0 && window < MaxLineBytes)
        {
            message = default;
            return false;
        }

        var length = lineFeed < 0 ? window : lineFeed + 1;
        message = buffer.Slice(0, length);
        buffer = buffer.Slice(length);
        return true;
    }
}
