using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary>Each mode and framing, each on a host of its own started with that setting.</summary>
public sealed class EchoModeTests
{
    private static EchoHostFactory Start(params (string Key, string Value)[] settings) =>
        EchoHostFactory.Start(settings.ToDictionary(s => s.Key, s => s.Value));

    [Fact]
    public async Task Receive_mode_logs_the_message_and_never_writes()
    {
        using var host = Start(("Echo:Mode", "Receive"));
        await using var client = await host.ConnectAsync();

        await client.SendAsync("Hello, World!\r\n");
        await host.Logs.WaitForAsync(line => line == @"Data received: 'Hello, World!\r\n'");
        client.HalfClose();

        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Empty(data);
        Assert.Equal(ConnectionEnd.Fin, end);
    }

    [Fact]
    public async Task Close_after_reply_answers_once_then_sends_fin()
    {
        using var host = Start(("Echo:CloseAfterReply", "true"));
        await using var client = await host.ConnectAsync();

        await client.SendAsync("Hello, World!\r\n");

        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Equal("Echoed back: Hello, World!\r\n", Encoding.UTF8.GetString(data));
        Assert.Equal(ConnectionEnd.Fin, end);
    }

    [Fact]
    public async Task Close_after_reply_discards_what_came_with_the_first_line()
    {
        using var host = Start(("Echo:CloseAfterReply", "true"));
        await using var client = await host.ConnectAsync();

        await client.SendAsync("first\nsecond\nthird\n");

        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Equal("Echoed back: first\n", Encoding.UTF8.GetString(data));
        Assert.Equal(ConnectionEnd.Fin, end);
    }

    [Fact]
    public async Task Chunk_framing_with_an_empty_prefix_is_a_pure_byte_echo()
    {
        using var host = Start(("Echo:Framing", "Chunk"), ("Echo:ReplyPrefix", ""));
        await using var client = await host.ConnectAsync();
        var payload = new byte[256 * 1024];
        new Random(7).NextBytes(payload);

        var receiving = client.ReceiveExactlyAsync(payload.Length);
        for (var offset = 0; offset < payload.Length; offset += 10_000)
        {
            await client.SendAsync(payload[offset..Math.Min(offset + 10_000, payload.Length)]);
        }

        Assert.Equal(payload, await receiving);
    }

    [Fact]
    public async Task Chunk_framing_prefixes_each_read()
    {
        using var host = Start(("Echo:Framing", "Chunk"));
        await using var client = await host.ConnectAsync();

        await client.SendAsync("no newline needed");

        Assert.Equal("Echoed back: no newline needed", await client.ReceiveTextAsync("Echoed back: no newline needed"));
    }

    [Fact]
    public async Task A_smaller_max_line_cuts_lines_sooner()
    {
        using var host = Start(("Echo:MaxLineBytes", "4"), ("Echo:ReplyPrefix", "> "));
        await using var client = await host.ConnectAsync();

        await client.SendAsync("abcdefg\n");

        Assert.Equal("> abcd> efg\n", await client.ReceiveTextAsync("> abcd> efg\n"));
    }

    [Fact]
    public async Task A_max_line_above_1_mib_answers_a_long_line_whole()
    {
        using var host = Start(("Echo:MaxLineBytes", "2097152"), ("Echo:ReplyPrefix", "> "), ("Serilog:MinimumLevel:Override:EchoHost.Echo", "Warning"));
        await using var client = await host.ConnectAsync();
        var line = new byte[1_500_001];
        Array.Fill(line, (byte)'m');
        line[^1] = (byte)'\n';

        var receiving = client.ReceiveExactlyAsync(2 + line.Length);
        await client.SendAsync(line);

        var reply = await receiving;
        Assert.Equal([(byte)'>', (byte)' ', .. line], reply);
    }

    [Fact]
    public async Task Echo_address_binds_the_given_interface()
    {
        using var host = Start(("Echo:Address", "127.0.0.1"));

        Assert.Contains(host.Logs.Messages, line => line == $"Echo listener serving on 127.0.0.1:{host.EchoEndPoint.Port} (raw TCP)");
        await using var client = await host.ConnectAsync();
        await client.SendAsync("x\n");
        Assert.Equal("Echoed back: x\n", await client.ReceiveTextAsync("Echoed back: x\n"));
    }
}
