using System.Buffers;

namespace EchoHost.Tests.Support;

/// <summary>Builds multi-segment sequences, the shape a pipe hands over when data arrived in several pieces.</summary>
internal static class Sequences
{
    public static ReadOnlySequence<byte> Of(params byte[][] segments)
    {
        var nonEmpty = segments.Where(s => s.Length > 0).ToArray();
        if (nonEmpty.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(nonEmpty[0], 0);
        var last = first;
        foreach (var bytes in nonEmpty.Skip(1))
        {
            last = last.Append(bytes);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
