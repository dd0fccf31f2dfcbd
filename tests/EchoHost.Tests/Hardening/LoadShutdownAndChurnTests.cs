using System.Diagnostics;
using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

[Collection(SerialTests.Name)]
public sealed class LoadShutdownAndChurnTests
{
    [Fact]
    public async Task Sigterm_while_100_clients_ping_pong_truncates_no_reply_gives_everyone_eof_and_exits_zero_within_5_s()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => EchoClient.ConnectAsync(echo)));
        using var stop = new CancellationTokenSource();

        // Each client sends a line and reads its whole reply, again and again, until the server ends the
        // connection: a reply cut short, or any reset, is a failure.
        var loops = clients.Select(async client =>
        {
            var rounds = 0;
            while (true)
            {
                var line = $"ping {rounds++}\n";
                try
                {
                    await client.SendAsync(line);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return (Rounds: rounds, End: (await client.ReceiveToEndAsync()).End, Truncated: false);
                }

                var (data, end) = await client.ReceiveLineOrEndAsync();
                if (data is null)
                {
                    return (Rounds: rounds, End: end, Truncated: false);
                }

                if (data != "Echoed back: " + line)
                {
                    return (Rounds: rounds, End: end, Truncated: true);
                }
            }
        }).ToArray();

        await Task.Delay(500);
        var stopwatch = Stopwatch.StartNew();
        host.Signal("TERM");
        var results = await Task.WhenAll(loops);
        var exitCode = await host.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stopwatch.Elapsed}");
        Assert.All(results, r => Assert.False(r.Truncated));
        Assert.All(results, r => Assert.Equal(ConnectionEnd.Fin, r.End));
        Assert.All(results, r => Assert.True(r.Rounds > 1, "a client made no round trip before the shutdown"));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Three_thousand_short_connections_half_of_them_reset_leave_descriptors_and_memory_at_their_baseline()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        await WarmUpAsync(echo);
        var descriptors = host.OpenDescriptors();
        var resident = host.ResidentBytes();

        for (var batch = 0; batch < 30; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
            {
                await using var client = await EchoClient.ConnectAsync(echo);
                await client.SendAsync("short\n");
                if (i % 2 == 0)
                {
                    client.Reset();
                }
                else
                {
                    await client.ReceiveTextAsync("Echoed back: short\n");
                }
            }));
        }

        await Eventually.TrueAsync(() => host.OpenDescriptors() <= descriptors + 4, TimeSpan.FromSeconds(10));
        var growth = host.ResidentBytes() - resident;
        Assert.True(growth < 32L * 1024 * 1024, $"resident memory grew by {growth / 1024 / 1024} MiB over 3,000 connections");
    }

    [Fact]
    public async Task Healthz_answers_within_a_second_while_echo_clients_are_busy_and_slow_http_clients_hang_on_the_health_port()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        var health = await host.WaitForHealthListenerAsync();
        using var http = new HttpClient { BaseAddress = health, Timeout = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();

        // 50 slow HTTP clients send half a request and wait; 20 echo clients ping-pong as fast as they can.
        var slow = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            var client = await EchoClient.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, health.Port));
            await client.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n");
            return client;
        }));
        var busy = Enumerable.Range(0, 20).Select(async _ =>
        {
            await using var client = await EchoClient.ConnectAsync(echo);
            while (!stop.IsCancellationRequested)
            {
                await client.SendAsync("busy\n");
                await client.ReceiveTextAsync("Echoed back: busy\n");
            }
        }).ToArray();

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.True((await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode);
            var took = Stopwatch.GetElapsedTime(started);
            slowest = took > slowest ? took : slowest;
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Task.WhenAll(busy);
        // Within the deployment's probe timeout (timeoutSeconds: 2).
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"the slowest /healthz took {slowest.TotalMilliseconds:0} ms");

        // The half-sent requests are shed after the 5 s header timeout instead of holding their descriptors.
        Assert.All(await Task.WhenAll(slow.Select(c => c.ReceiveToEndAsync(TimeSpan.FromSeconds(10)))), end => Assert.NotEmpty(end.Data));
        foreach (var client in slow)
        {
            await client.DisposeAsync();
        }
    }

    private static async Task WarmUpAsync(System.Net.IPEndPoint echo)
    {
        for (var i = 0; i < 200; i++)
        {
            await using var client = await EchoClient.ConnectAsync(echo);
            await client.SendAsync("warm\n");
            Assert.Equal("Echoed back: warm\n", Encoding.ASCII.GetString(await client.ReceiveExactlyAsync(18)));
        }
    }
}
