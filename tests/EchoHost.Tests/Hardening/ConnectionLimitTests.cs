using System.Net;
using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;

namespace EchoHost.Tests.Hardening;

[Collection(SerialTests.Name)]
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task Over_the_limit_connections_are_closed_unanswered_while_health_keeps_answering()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:MaxConnections"] = "2" });
        var first = await host.ConnectAsync();
        await using var second = await host.ConnectAsync();
        await RoundTripAsync(first, "one");
        await RoundTripAsync(second, "two");

        for (var i = 0; i < 5; i++)
        {
            await using var rejected = await host.ConnectAsync();
            await rejected.SendAsync("anyone?\n");
            var (data, _) = await rejected.ReceiveToEndAsync(TimeSpan.FromSeconds(1));
            Assert.Empty(data);
        }

        using var http = host.CreateHealthClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);

        var warning = Assert.Single(host.Logs.Events, e => e.Level == LogEventLevel.Warning);
        Assert.StartsWith("Rejected 1 connection(s) over Echo:MaxConnections=2", warning.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        var connections = host.Services.GetRequiredService<ConnectionCounter>();
        await Eventually.TrueAsync(() => connections.Count == 1);
        await using var third = await host.ConnectAsync();
        await RoundTripAsync(third, "three");
    }

    private static async Task RoundTripAsync(EchoClient client, string text)
    {
        await client.SendAsync(text + "\n");
        Assert.Equal($"Echoed back: {text}\n", await client.ReceiveTextAsync($"Echoed back: {text}\n"));
    }
}
