using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary>The echo listener with default settings, over real sockets.</summary>
public sealed class EchoListenerTests : IClassFixture<EchoListenerTests.DefaultHost>
{
    private readonly EchoHostFactory _host;

    public EchoListenerTests(DefaultHost host) => _host = host.Factory;

    [Fact]
    public async Task Echoes_the_chapters_example_and_logs_the_peer()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("Hello, World!\r\n");

        Assert.Equal("Echoed back: Hello, World!\r\n", await client.ReceiveTextAsync("Echoed back: Hello, World!\r\n"));
        await _host.Logs.WaitForAsync(line => line == $"Connection from 127.0.0.1:{client.LocalEndPoint.Port}");
        await _host.Logs.WaitForAsync(line => line == @"Data received: 'Hello, World!\r\n'");
    }

    [Fact]
    public async Task Replies_to_each_line_in_order_when_several_arrive_at_once()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("one\ntwo\nthree\n");

        const string expected = "Echoed back: one\nEchoed back: two\nEchoed back: three\n";
        Assert.Equal(expected, await client.ReceiveTextAsync(expected));
    }

    [Fact]
    public async Task A_line_sent_in_pieces_gets_one_reply()
    {
        await using var client = await _host.ConnectAsync();

        foreach (var piece in new[] { "Hel", "lo, ", "World!", "\r", "\n" })
        {
            await client.SendAsync(piece);
            await Task.Delay(30);
        }

        client.HalfClose();
        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Equal("Echoed back: Hello, World!\r\n", Encoding.UTF8.GetString(data));
        Assert.Equal(ConnectionEnd.Fin, end);
    }

    [Fact]
    public async Task A_long_line_comes_back_in_pieces_of_8192_bytes()
    {
        await using var client = await _host.ConnectAsync();
        var line = new byte[20_001];
        Array.Fill(line, (byte)'L');
        line[^1] = (byte)'\n';

        await client.SendAsync(line);
        client.HalfClose();

        var (data, _) = await client.ReceiveToEndAsync();
        var prefix = "Echoed back: "u8.ToArray();
        byte[] expected = [.. prefix, .. line[..8192], .. prefix, .. line[8192..16384], .. prefix, .. line[16384..]];
        Assert.Equal(expected, data);
    }

    [Fact]
    public async Task Half_close_gets_the_pending_partial_line_then_fin()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("first\nno terminator");
        client.HalfClose();

        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Equal("Echoed back: first\nEchoed back: no terminator", Encoding.UTF8.GetString(data));
        Assert.Equal(ConnectionEnd.Fin, end);
        await _host.Logs.WaitForAsync(line => line.StartsWith(
            $"Connection from 127.0.0.1:{client.LocalEndPoint.Port} closed: 19 bytes in, 45 bytes out, ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_byte_value_survives_the_round_trip()
    {
        await using var client = await _host.ConnectAsync();
        var payload = Enumerable.Range(0, 256).Select(b => (byte)b).Where(b => b != '\n').Append((byte)'\n').ToArray();

        await client.SendAsync(payload);

        var reply = await client.ReceiveExactlyAsync(13 + payload.Length);
        Assert.Equal([.. "Echoed back: "u8.ToArray(), .. payload], reply);
    }

    [Fact]
    public async Task An_http_request_line_is_just_another_line()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("GET / HTTP/1.1\r\n");

        Assert.Equal("Echoed back: GET / HTTP/1.1\r\n", await client.ReceiveTextAsync("Echoed back: GET / HTTP/1.1\r\n"));
    }

    [Fact]
    public async Task Many_clients_are_served_at_once()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _host.ConnectAsync()));
        try
        {
            await Task.WhenAll(clients.Select(async (client, i) =>
            {
                await client.SendAsync($"client {i}\n");
                Assert.Equal($"Echoed back: client {i}\n", await client.ReceiveTextAsync($"Echoed back: client {i}\n"));
            }));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public void The_start_up_log_names_each_listener_with_its_real_port()
    {
        var echoPort = _host.EchoEndPoint.Port;
        var healthPort = _host.HealthUri.Port;

        Assert.NotEqual(0, echoPort);
        Assert.Contains(_host.Logs.Messages, line => line.StartsWith("Echo listener serving on ", StringComparison.Ordinal)
            && line.EndsWith($":{echoPort} (raw TCP)", StringComparison.Ordinal));
        Assert.Contains(_host.Logs.Messages, line => line.StartsWith("Health listener serving on ", StringComparison.Ordinal)
            && line.EndsWith($":{healthPort} (HTTP: /healthz, /readyz, /metrics)", StringComparison.Ordinal));
        Assert.DoesNotContain(_host.Logs.Messages, line => line.Contains("Now listening on", StringComparison.Ordinal));
    }

    public sealed class DefaultHost : IDisposable
    {
        public EchoHostFactory Factory { get; } = EchoHostFactory.Start();

        public void Dispose() => Factory.Dispose();
    }
}
