using EchoHost.Tests.Support;
using Serilog.Events;

namespace EchoHost.Tests.Integration;

/// <summary>Probes and impatient clients are routine: they must not raise warnings.</summary>
public sealed class QuietFaultTests
{
    [Fact]
    public async Task A_connect_and_close_probe_and_a_reset_mid_line_log_nothing_above_information()
    {
        using var host = EchoHostFactory.Start();

        var probe = await host.ConnectAsync();
        var probePort = probe.LocalEndPoint.Port;
        await probe.DisposeAsync();

        var resetter = await host.ConnectAsync();
        var resetterPort = resetter.LocalEndPoint.Port;
        await resetter.SendAsync("half a li");
        await host.Logs.WaitForAsync(line => line == $"Connection from 127.0.0.1:{resetterPort}");
        resetter.Reset();

        await host.Logs.WaitForAsync(line => line.StartsWith($"Connection from 127.0.0.1:{probePort} closed: 0 bytes in, 0 bytes out", StringComparison.Ordinal));
        await host.Logs.WaitForAsync(line => line.StartsWith($"Connection from 127.0.0.1:{resetterPort} closed: ", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Events, e => e.Level > LogEventLevel.Information);
        Assert.DoesNotContain(host.Logs.Messages, line => line.StartsWith("Data received", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_server_keeps_serving_others_after_a_client_resets()
    {
        using var host = EchoHostFactory.Start();
        await using var steady = await host.ConnectAsync();

        var resetter = await host.ConnectAsync();
        await resetter.SendAsync(new byte[100_000]);
        resetter.Reset();

        await steady.SendAsync("still here\n");
        Assert.Equal("Echoed back: still here\n", await steady.ReceiveTextAsync("Echoed back: still here\n"));
    }
}
