using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace EchoHost.Tests.Hardening;

/// <summary>Clients that write without reading, against the total memory budget.</summary>
[Collection(SerialTests.Name)]
public sealed partial class MemoryBudgetTests
{
    [Fact]
    public async Task Three_hundred_clients_that_never_read_grow_the_host_boundedly_while_a_polite_client_is_served()
    {
        using var host = HostProcess.StartOnEphemeralPorts(
            ["--Echo:MemoryBudget=4MiB", "--Echo:Framing=Chunk", "--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        using var http = new HttpClient { BaseAddress = await host.WaitForHealthListenerAsync(), Timeout = TimeSpan.FromSeconds(5) };
        await using var polite = await EchoClient.ConnectAsync(echo);
        Assert.Equal("Echoed back: warm-up\n", await polite.ReceiveTextAsync(await Send(polite, "warm-up\n")));
        var baseline = host.ResidentBytes();

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var flooders = new List<Socket>();
        var writes = new List<Task>();
        var slowest = TimeSpan.Zero;
        try
        {
            for (var i = 0; i < 300; i++)
            {
                // A small receive window, so the replies back up into the server soon, as over a slow link.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(echo, stop.Token);
                flooders.Add(socket);
                writes.Add(WriteWithoutReadingAsync(socket, stop.Token));
                if (i % 30 == 0)
                {
                    slowest = Max(slowest, await RoundTripAsync(polite));
                }
            }

            // Let every flooder push as far as the server lets it, still checking on the polite client.
            for (var i = 0; i < 10; i++)
            {
                slowest = Max(slowest, await RoundTripAsync(polite));
                await Task.Delay(100);
            }

            var growth = host.ResidentBytes() - baseline;
            Assert.True(growth < 96L * 1024 * 1024, $"the host grew by {growth / 1024 / 1024} MiB");
            // Starved, the polite client would wait for the 20 s deadline; 3 s leaves room for a machine busy with other tests.
            Assert.True(slowest < TimeSpan.FromSeconds(3), $"the polite client waited {slowest.TotalMilliseconds:0} ms for an echo");

            // On a loaded machine the flood can stall more slowly than the 300 connects above arrive, so no
            // connection was turned away yet: keep knocking with more writers until one is, within the deadline.
            var rejected = await RejectedForMemoryAsync(http);
            while (rejected == 0 && !stop.IsCancellationRequested)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(echo, stop.Token);
                flooders.Add(socket);
                writes.Add(WriteWithoutReadingAsync(socket, stop.Token));
                await Task.Delay(50, CancellationToken.None);
                rejected = await RejectedForMemoryAsync(http);
            }

            Assert.True(rejected > 0, "no connection was turned away for memory");
            await host.WaitForOutputAsync(l => l.Contains("of the 4194304-byte memory budget", StringComparison.Ordinal));
        }
        finally
        {
            await stop.CancelAsync();
            flooders.ForEach(s => s.Dispose());
            await Task.WhenAll(writes.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    [Fact]
    public async Task A_client_whose_replies_backed_up_holds_none_of_the_budget_once_it_has_read_them_all()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:MemoryBudget"] = "64MiB" });
        var budget = host.Services.GetRequiredService<MemoryBudget>();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(host.EchoEndPoint);
        var line = Encoding.ASCII.GetBytes(new string('x', 999) + "\n");
        const int Lines = 400;

        // The replies back up while the client writes and has not started reading: the input the host then reads
        // spans several of the pipe's segments, which it gives back as the protocol consumes them.
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < Lines; i++)
            {
                await client.SendAsync(line);
            }
        });
        await Eventually.TrueAsync(() => client.Available >= 4096);
        var expected = Lines * ("Echoed back: ".Length + line.Length);
        var buffer = new byte[64 * 1024];
        for (var total = 0; total < expected;)
        {
            var read = await client.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, $"the host closed after {total} of {expected} bytes");
            total += read;
        }

        await writing;
        await Eventually.TrueAsync(() => budget.Held == 0);
    }

    private static async Task<string> Send(EchoClient client, string line)
    {
        await client.SendAsync(line);
        return "Echoed back: " + line;
    }

    private static async Task<TimeSpan> RoundTripAsync(EchoClient client)
    {
        var started = Stopwatch.GetTimestamp();
        Assert.Equal("Echoed back: ping\n", await client.ReceiveTextAsync(await Send(client, "ping\n")));
        return Stopwatch.GetElapsedTime(started);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static async Task<long> RejectedForMemoryAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return long.Parse(RejectedForMemory().Match(metrics).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    // Up to 4 MiB, never reading a reply; a server that stops reading makes the send wait, which is the point.
    private static async Task WriteWithoutReadingAsync(Socket socket, CancellationToken stop)
    {
        var chunk = new byte[16 * 1024];
        for (var sent = 0; sent < 4 * 1024 * 1024 && !stop.IsCancellationRequested; sent += chunk.Length)
        {
            await socket.SendAsync(chunk, SocketFlags.None, stop);
        }
    }

    [GeneratedRegex(@"echohost_connections_rejected_total\{[^}]*reason=""memory""[^}]*\} (\d+)")]
    private static partial Regex RejectedForMemory();
}
