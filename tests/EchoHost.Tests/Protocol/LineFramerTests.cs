using System.Buffers;
using System.Text;
using EchoHost.Echo.Framing;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Protocol;

public sealed class LineFramerTests
{
    private static List<byte[]> Frame(IMessageFramer framer, ReadOnlySequence<byte> buffer, out long left)
    {
        var messages = new List<byte[]>();
        while (framer.TryReadMessage(ref buffer, out var message))
        {
            messages.Add(message.ToArray());
        }

        left = buffer.Length;
        return messages;
    }

    [Fact]
    public void A_line_ends_at_LF_and_keeps_its_terminator_and_CR()
    {
        var messages = Frame(new LineFramer(8192), Sequences.Of("Hello, World!\r\nnext"u8.ToArray()), out var left);

        Assert.Equal(["Hello, World!\r\n"], messages.Select(Encoding.ASCII.GetString));
        Assert.Equal(4, left);
    }

    [Fact]
    public void Several_lines_come_out_in_order_and_a_lone_CR_is_data()
    {
        var messages = Frame(new LineFramer(8192), Sequences.Of("a\nb\rc\n\n"u8.ToArray()), out var left);

        Assert.Equal(["a\n", "b\rc\n", "\n"], messages.Select(Encoding.ASCII.GetString));
        Assert.Equal(0, left);
    }

    [Fact]
    public void A_line_split_across_segments_is_one_message()
    {
        var messages = Frame(new LineFramer(8192), Sequences.Of("Hel"u8.ToArray(), "lo, Wor"u8.ToArray(), "ld!\n"u8.ToArray()), out _);

        Assert.Equal(["Hello, World!\n"], messages.Select(Encoding.ASCII.GetString));
    }

    [Fact]
    public void Without_an_LF_nothing_is_taken_until_the_limit()
    {
        var framer = new LineFramer(8);
        var messages = Frame(framer, Sequences.Of("1234567"u8.ToArray()), out var left);

        Assert.Empty(messages);
        Assert.Equal(7, left);
    }

    [Fact]
    public void Twenty_thousand_bytes_and_an_LF_are_cut_into_8192_8192_and_3617()
    {
        var line = new byte[20_001];
        Array.Fill(line, (byte)'x');
        line[^1] = (byte)'\n';

        var messages = Frame(new LineFramer(8192), Sequences.Of(line[..5000], line[5000..]), out var left);

        Assert.Equal([8192, 8192, 3617], messages.Select(m => m.Length));
        Assert.Equal(line, messages.SelectMany(m => m).ToArray());
        Assert.Equal(0, left);
    }

    [Fact]
    public void The_limit_counts_the_LF()
    {
        var exactly = new byte[8192];
        Array.Fill(exactly, (byte)'y');
        exactly[^1] = (byte)'\n';
        var oneOver = new byte[8193];
        Array.Fill(oneOver, (byte)'z');
        oneOver[^1] = (byte)'\n';

        Assert.Equal([8192], Frame(new LineFramer(8192), Sequences.Of(exactly), out _).Select(m => m.Length));
        Assert.Equal([8192, 1], Frame(new LineFramer(8192), Sequences.Of(oneOver), out _).Select(m => m.Length));
    }

    [Fact]
    public void A_limit_of_one_byte_makes_every_byte_a_message()
    {
        var messages = Frame(new LineFramer(1), Sequences.Of("ab\n"u8.ToArray()), out _);

        Assert.Equal(["a", "b", "\n"], messages.Select(Encoding.ASCII.GetString));
    }

    [Theory]
    [InlineData("a\nbb\r\nccc", 8)]
    [InlineData("xxxxxxxxxxxxxxxxxxxxx\nyy", 8)]
    [InlineData("12345678\n", 8)]
    [InlineData("\n\n\n", 1)]
    [InlineData("no line feed", 64)]
    public void A_buffer_in_one_piece_is_framed_as_the_same_bytes_one_per_segment(string text, int limit)
    {
        var bytes = Encoding.ASCII.GetBytes(text);

        var whole = Frame(new LineFramer(limit), Sequences.Of(bytes), out var leftWhole);
        var split = Frame(new LineFramer(limit), Sequences.Of([.. bytes.Select(b => new[] { b })]), out var leftSplit);

        Assert.Equal(split, whole);
        Assert.Equal(leftSplit, leftWhole);
    }

    [Fact]
    public void The_limit_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineFramer(0));
    }

    [Fact]
    public void The_chunk_framer_takes_everything_at_once()
    {
        var messages = Frame(ChunkFramer.Instance, Sequences.Of("a\n"u8.ToArray(), "b"u8.ToArray()), out var left);

        Assert.Equal(["a\nb"], messages.Select(Encoding.ASCII.GetString));
        Assert.Equal(0, left);
        Assert.Empty(Frame(ChunkFramer.Instance, ReadOnlySequence<byte>.Empty, out _));
    }
}
