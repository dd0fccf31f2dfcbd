using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Hardening;

[Collection(SerialTests.Name)]
public sealed class ShutdownTests
{
    [Fact]
    public async Task Sigterm_turns_readiness_off_at_once_closes_idle_connections_with_fin_and_exits_zero_within_5_s()
    {
        using var host = HostProcess.StartOnEphemeralPorts();
        var echo = await host.WaitForEchoListenerAsync();
        var health = await host.WaitForHealthListenerAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => EchoClient.ConnectAsync(echo)));
        await clients[0].SendAsync("unfinished");
        await Eventually.TrueAsync(() => host.StandardOutput.Count(l => l.Contains("INF] Connection from 127.0.0.1:", StringComparison.Ordinal)) == 3);
        using var http = new HttpClient { BaseAddress = health, Timeout = TimeSpan.FromSeconds(10) };
        Assert.True((await http.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode);

        var stopwatch = Stopwatch.StartNew();
        host.Signal("TERM");
        var notReadyAfter = await FirstNotReadyAsync(http);
        var ends = await Task.WhenAll(clients.Select(c => c.ReceiveToEndAsync()));
        var exitCode = await host.WaitForExitAsync();
        var stoppedAfter = stopwatch.Elapsed;

        // Probes come every 5 s (deployment.yaml); 2 s still shows the flip is at once, on a machine busy with other tests.
        Assert.True(notReadyAfter < TimeSpan.FromSeconds(2), $"/readyz was still 200 {notReadyAfter} after SIGTERM");
        Assert.All(ends, end => Assert.Equal(ConnectionEnd.Fin, end.End));
        Assert.Equal("Echoed back: unfinished", Encoding.UTF8.GetString(ends[0].Data));
        Assert.Equal(0, exitCode);
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(5), $"stopping took {stoppedAfter}");
        Assert.Contains(host.StandardOutput, l => l.EndsWith("EchoHost stopping: no new connections; closing 3 open connection(s) gracefully", StringComparison.Ordinal));
        Assert.Contains(host.StandardOutput, l => l.Contains("EchoHost stopped: closed 3 of 3 connection(s) gracefully in ", StringComparison.Ordinal));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_idle_connection_hears_shutdown_when_no_heartbeat_runs()
    {
        // A clock that never moves runs no heartbeat of the listener's: only the registration its connections make as the
        // host starts to stop can pass Kestrel's request on. Without it the connection would be reset once the host's
        // shutdown timeout ran out.
        await using var host = EchoHostFactory.Start(time: new FakeTimeProvider());
        await using var client = await host.ConnectAsync();
        await client.SendAsync("tick\n");
        Assert.Equal("Echoed back: tick\n", await client.ReceiveTextAsync("Echoed back: tick\n"));

        var end = client.ReceiveToEndAsync(TimeSpan.FromSeconds(10));
        var stopping = host.DisposeAsync().AsTask();
        var (data, how) = await end;
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(data);
        Assert.Equal(ConnectionEnd.Fin, how);
    }

    [Fact]
    public async Task A_client_that_never_reads_cannot_hold_shutdown_past_the_shutdown_timeout()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Echo:Framing=Chunk", "--Echo:ReplyPrefix=", "--HostOptions:ShutdownTimeout=00:00:02"]);
        var echo = await host.WaitForEchoListenerAsync();
        await using var stuck = await EchoClient.ConnectAsync(echo);
        await PushUntilStalledAsync(stuck);

        var stopwatch = Stopwatch.StartNew();
        host.Signal("TERM");

        // While it drains, the echo port accepts nobody new.
        await Eventually.TrueAsync(() => !CanConnect(echo), TimeSpan.FromSeconds(1));
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));

        // The stuck connection is aborted, not closed gracefully. (The probe above may have been accepted
        // just before the listener closed; it hangs up by itself, so it is open but not closed by shutdown.)
        Assert.Contains(host.StandardOutput, l => Regex.IsMatch(l, @"EchoHost stopped: closed 0 of [12] connection\(s\) gracefully in "));
    }

    [Fact]
    public async Task During_shutdown_a_client_that_never_reads_is_aborted_after_the_write_timeout_not_the_shutdown_timeout()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Echo:Framing=Chunk", "--Echo:ReplyPrefix=", "--Echo:WriteTimeout=00:00:03", "--HostOptions:ShutdownTimeout=00:01:00"]);
        var echo = await host.WaitForEchoListenerAsync();
        await using var stuck = await EchoClient.ConnectAsync(echo);
        await PushUntilStalledAsync(stuck);

        var stopwatch = Stopwatch.StartNew();
        host.Signal("TERM");

        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {stopwatch.Elapsed}");
        Assert.Contains(host.StandardOutput, l => l.Contains("read none of its replies for 00:00:03: aborting it", StringComparison.Ordinal));
    }

    private static bool CanConnect(System.Net.IPEndPoint endPoint)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static async Task<long> PushUntilStalledAsync(EchoClient client, long limit = 256L * 1024 * 1024)
    {
        var chunk = new byte[64 * 1024];
        long sent = 0;
        while (sent < limit)
        {
            var send = client.SendAsync(chunk);
            if (await Task.WhenAny(send, Task.Delay(1000)) != send)
            {
                return sent;
            }

            await send;
            sent += chunk.Length;
        }

        return sent;
    }

    private static async Task<TimeSpan> FirstNotReadyAsync(HttpClient http)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(5))
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (!response.IsSuccessStatusCode)
                {
                    return stopwatch.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                return stopwatch.Elapsed;
            }

            await Task.Delay(10);
        }

        return stopwatch.Elapsed;
    }
}
