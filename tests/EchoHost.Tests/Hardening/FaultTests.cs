using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;

namespace EchoHost.Tests.Hardening;

/// <summary>Probes, resets and half-closes: quiet in the log, and nothing left behind.</summary>
public sealed class FaultTests
{
    [Fact]
    public async Task Probes_resets_and_half_closes_log_nothing_above_information_and_leak_no_connection()
    {
        using var host = EchoHostFactory.Start();
        var connections = host.Services.GetRequiredService<ConnectionCounter>();

        // A Kubernetes tcpSocket probe: connect, close, no data.
        await (await host.ConnectAsync()).DisposeAsync();

        // A reset in the middle of a line.
        var midLine = await host.ConnectAsync();
        await midLine.SendAsync("half a li");
        await host.Logs.WaitForAsync(line => line == $"Connection from 127.0.0.1:{midLine.LocalEndPoint.Port}");
        midLine.Reset();

        // A reset while the server is writing: the client sends a lot and reads nothing.
        var midWrite = await host.ConnectAsync();
        var lines = string.Concat(Enumerable.Repeat(new string('w', 1000) + "\n", 4000));
        var sending = midWrite.SendAsync(lines);
        await Task.WhenAny(sending, Task.Delay(500));
        midWrite.Reset();
        await Task.WhenAny(sending);

        // A half-close: the server answers the pending bytes and closes its side.
        await using var halfClosed = await host.ConnectAsync();
        await halfClosed.SendAsync("bye");
        halfClosed.HalfClose();
        Assert.Equal(ConnectionEnd.Fin, (await halfClosed.ReceiveToEndAsync()).End);

        await Eventually.TrueAsync(() => connections.Count == 0);
        Assert.DoesNotContain(host.Logs.Events, e => e.Level > LogEventLevel.Information);
    }
}
