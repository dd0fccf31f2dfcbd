using System.Net;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

/// <summary>The host under a low RLIMIT_NOFILE, flooded with more clients than it has descriptors for.</summary>
[Collection(SerialTests.Name)]
public sealed class DescriptorLimitTests
{
    // The lower limit is too low for the reserve, so no echo connection is admitted, yet above what the test's
    // JIT-run host opens by itself, which holds two descriptors for each assembly it loads.
    [Theory]
    [InlineData(272)]
    [InlineData(400)]
    public async Task Four_hundred_clients_under_a_low_descriptor_limit_neither_kill_nor_spin_the_host_and_it_recovers(int limit)
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"], descriptorLimit: limit);
        var echo = await host.WaitForEchoListenerAsync();
        using var http = new HttpClient { BaseAddress = await host.WaitForHealthListenerAsync(), Timeout = TimeSpan.FromSeconds(5) };
        var warning = await host.WaitForOutputAsync(l => l.Contains("does not fit the file-descriptor limit", StringComparison.Ordinal));
        Assert.Contains($"RLIMIT_NOFILE={limit}", warning, StringComparison.Ordinal);
        var admitted = int.Parse(System.Text.RegularExpressions.Regex.Match(warning, @"admitting at most (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        var clients = new List<EchoClient>();
        try
        {
            for (var i = 0; i < 400; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(echo));
            }

            // Every client is answered or turned away; none is left waiting, and the host stays idle meanwhile.
            var outcomes = await Task.WhenAll(clients.Select(ClassifyAsync));
            Assert.Equal(0, outcomes.Count(o => o == Outcome.Waiting));
            Assert.InRange(outcomes.Count(o => o == Outcome.Answered), 0, admitted);

            var cpuBefore = host.CpuTime();
            var healthz = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(host.CpuTime() - cpuBefore < TimeSpan.FromSeconds(1), $"the host used {host.CpuTime() - cpuBefore} of CPU in 2 s while clients held their connections");
            Assert.True(host.OpenDescriptors() < limit, $"{host.OpenDescriptors()} descriptors open of {limit}");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        Assert.False(host.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        if (admitted > 0)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (await ClassifyAndCloseAsync(echo) != Outcome.Answered)
            {
                Assert.True(DateTime.UtcNow < deadline, "the host did not serve again once the clients left");
                await Task.Delay(100);
            }
        }

        Assert.True(host.StandardOutput.Count(l => l.Contains("Rejected", StringComparison.Ordinal)) <= 3, "rejections are reported at most once per 10 s");
    }

    [Fact]
    public async Task Three_hundred_silent_clients_on_the_health_port_take_neither_the_echo_clients_descriptors_nor_the_CPU()
    {
        const int limit = 400;
        using var host = HostProcess.StartOnEphemeralPorts([], descriptorLimit: limit);
        var echo = await host.WaitForEchoListenerAsync();
        var health = await host.WaitForHealthListenerAsync();
        var silent = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                silent.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, health.Port);
            }

            await host.WaitForOutputAsync(l => l.Contains("Health listener paused accepting", StringComparison.Ordinal));
            var cpuBefore = host.CpuTime();
            Assert.Equal(Outcome.Answered, await ClassifyAndCloseAsync(echo));
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(host.CpuTime() - cpuBefore < TimeSpan.FromSeconds(1), $"the host used {host.CpuTime() - cpuBefore} of CPU in 2 s while silent clients waited");
            Assert.True(host.OpenDescriptors() < limit, $"{host.OpenDescriptors()} descriptors open of {limit}");
        }
        finally
        {
            foreach (var socket in silent)
            {
                socket.Dispose();
            }
        }

        using var http = new HttpClient { BaseAddress = health, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await AnswersAsync(http))
        {
            Assert.True(DateTime.UtcNow < deadline, "/healthz did not answer again once the silent clients left");
            await Task.Delay(200);
        }

        Assert.False(host.HasExited);
    }

    private static async Task<bool> AnswersAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<Outcome> ClassifyAndCloseAsync(IPEndPoint echo)
    {
        await using var client = await EchoClient.ConnectAsync(echo);
        return await ClassifyAsync(client);
    }

    private enum Outcome
    {
        Answered,
        TurnedAway,
        Waiting,
    }

    // Answered: the echo came back (the connection stays open). Turned away: closed without a reply. Waiting:
    // neither within 3 s.
    private static async Task<Outcome> ClassifyAsync(EchoClient client)
    {
        await client.SendAsync("hi\n");
        var reply = client.ReceiveExactlyAsync("Echoed back: hi\n".Length);
        if (await Task.WhenAny(reply, Task.Delay(TimeSpan.FromSeconds(3))) != reply)
        {
            return Outcome.Waiting;
        }

        return reply.IsCompletedSuccessfully ? Outcome.Answered : Outcome.TurnedAway;
    }
}
