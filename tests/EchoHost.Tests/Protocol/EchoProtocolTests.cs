using System.Text;
using EchoHost.Echo;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EchoHost.Tests.Protocol;

public sealed class EchoProtocolTests
{
    private readonly RecordingLogger<EchoProtocol> _log = new();

    private ProtocolDriver Connect(EchoOptions? options = null) =>
        new ProtocolDriver(new EchoProtocol(new EchoBehavior(options ?? new EchoOptions()), null, _log)).Connect();

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void Echoes_a_line_with_the_default_prefix()
    {
        var driver = Connect().Receive("Hello, World!\r\n"u8.ToArray());

        Assert.Equal("Echoed back: Hello, World!\r\n", Text(driver.Transport.Written));
        Assert.False(driver.Transport.Closed);
    }

    [Fact]
    public void Logs_each_message_like_python_repr()
    {
        Connect().Receive("Hello, World!\r\nbye\n"u8.ToArray());

        Assert.Equal(
            [(LogLevel.Information, @"Data received: 'Hello, World!\r\n'"), (LogLevel.Information, @"Data received: 'bye\n'")],
            _log.Entries);
    }

    [Fact]
    public void Builds_no_log_text_when_information_is_off()
    {
        var quiet = new RecordingLogger<EchoProtocol> { MinimumLevel = LogLevel.Warning };
        var driver = new ProtocolDriver(new EchoProtocol(new EchoBehavior(new EchoOptions()), null, quiet)).Connect();

        driver.Receive("x\n"u8.ToArray());

        Assert.Empty(quiet.Entries);
        Assert.Equal("Echoed back: x\n", Text(driver.Transport.Written));
    }

    [Fact]
    public void Replies_to_every_line_in_one_read_in_order_and_keeps_the_partial_one()
    {
        var driver = Connect().Receive("one\ntwo\r\nthr"u8.ToArray());

        Assert.Equal("Echoed back: one\nEchoed back: two\r\n", Text(driver.Transport.Written));
        Assert.Equal(3, driver.PendingBytes);
    }

    [Fact]
    public void The_replies_do_not_depend_on_where_tcp_cut_the_input()
    {
        var input = "first line\r\nsecond\n\nthird \u00e9\u00e8 line\nunterminated"u8.ToArray();
        var expected = Text(Connect().Receive(input).EndOfInput().Transport.Written);
        Assert.Equal(
            "Echoed back: first line\r\nEchoed back: second\nEchoed back: \nEchoed back: third \u00e9\u00e8 line\nEchoed back: unterminated",
            expected);

        for (var first = 0; first <= input.Length; first++)
        {
            for (var second = first; second <= input.Length; second++)
            {
                var driver = Connect()
                    .Receive(input[..first])
                    .Receive(input[first..second])
                    .Receive(input[second..])
                    .EndOfInput();
                Assert.Equal(expected, Text(driver.Transport.Written));
            }
        }
    }

    [Fact]
    public void Receive_mode_logs_and_never_writes()
    {
        var driver = Connect(new EchoOptions { Mode = EchoMode.Receive })
            .Receive("Hello, World!\r\n"u8.ToArray())
            .Receive("tail"u8.ToArray())
            .EndOfInput();

        Assert.Empty(driver.Transport.Written);
        Assert.Equal([@"Data received: 'Hello, World!\r\n'", "Data received: 'tail'"], _log.Entries.Select(e => e.Message));
    }

    [Fact]
    public void Close_after_reply_answers_the_first_line_only_then_closes()
    {
        var driver = Connect(new EchoOptions { CloseAfterReply = true })
            .Receive("first\nsecond\n"u8.ToArray())
            .Receive("third\n"u8.ToArray())
            .EndOfInput();

        Assert.Equal("Echoed back: first\n", Text(driver.Transport.Written));
        Assert.True(driver.Transport.Closed);
        Assert.Equal(driver.Transport.Written.Length, driver.Transport.ClosedAfterBytes);
        Assert.Equal(0, driver.PendingBytes);
    }

    [Fact]
    public void Close_after_reply_answers_a_partial_line_at_end_of_input()
    {
        var driver = Connect(new EchoOptions { CloseAfterReply = true }).Receive("no newline"u8.ToArray()).EndOfInput();

        Assert.Equal("Echoed back: no newline", Text(driver.Transport.Written));
        Assert.True(driver.Transport.Closed);
    }

    [Fact]
    public void Close_after_reply_in_receive_mode_closes_after_the_first_message_without_writing()
    {
        var driver = Connect(new EchoOptions { CloseAfterReply = true, Mode = EchoMode.Receive }).Receive("a\nb\n"u8.ToArray());

        Assert.Empty(driver.Transport.Written);
        Assert.True(driver.Transport.Closed);
        Assert.Single(_log.Entries);
    }

    [Fact]
    public void At_end_of_input_a_partial_line_is_replied_as_it_is()
    {
        var driver = Connect().Receive("abc"u8.ToArray()).EndOfInput();

        Assert.Equal("Echoed back: abc", Text(driver.Transport.Written));
    }

    [Fact]
    public void End_of_input_with_nothing_pending_writes_nothing()
    {
        var driver = Connect().Receive("abc\n"u8.ToArray()).EndOfInput();

        Assert.Equal("Echoed back: abc\n", Text(driver.Transport.Written));
    }

    [Fact]
    public void Chunk_framing_replies_once_per_read_whatever_it_holds()
    {
        var driver = Connect(new EchoOptions { Framing = MessageFraming.Chunk })
            .Receive("a\nb"u8.ToArray())
            .Receive("c"u8.ToArray());

        Assert.Equal("Echoed back: a\nbEchoed back: c", Text(driver.Transport.Written));
        Assert.Equal(0, driver.PendingBytes);
    }

    [Fact]
    public void With_an_empty_prefix_chunk_framing_is_a_pure_byte_echo()
    {
        byte[] payload = [0, 1, 2, 0xFF, 0xC3, 0x28, (byte)'\r', 0x80];
        var driver = Connect(new EchoOptions { Framing = MessageFraming.Chunk, ReplyPrefix = "" }).Receive(payload);

        Assert.Equal(payload, driver.Transport.Written);
    }

    [Fact]
    public void Bytes_are_echoed_verbatim_including_nul_invalid_utf8_and_cr()
    {
        byte[] line = [0x00, 0xFF, 0xFE, 0xC3, 0x28, (byte)'\r', (byte)'\r', (byte)'\n'];
        var driver = Connect().Receive(line);

        Assert.Equal("Echoed back: "u8.ToArray().Concat(line), driver.Transport.Written);
        Assert.Equal(@"Data received: '\x00\xff\xfe\xc3(\r\r\n'", _log.Entries.Single().Message);
    }

    [Fact]
    public void A_long_line_is_replied_in_pieces_of_max_line_bytes_with_the_prefix_on_each()
    {
        var line = new byte[21];
        Array.Fill(line, (byte)'q');
        line[^1] = (byte)'\n';
        var driver = Connect(new EchoOptions { MaxLineBytes = 8, ReplyPrefix = ">" }).Receive(line);

        Assert.Equal(">qqqqqqqq>qqqqqqqq>qqqq\n", Text(driver.Transport.Written));
    }

    [Fact]
    public void A_non_ascii_prefix_is_written_as_utf8()
    {
        var driver = Connect(new EchoOptions { ReplyPrefix = "\u00c9cho: " }).Receive("x\n"u8.ToArray());

        Assert.Equal("\u00c9cho: x\n", Text(driver.Transport.Written));
    }
}
