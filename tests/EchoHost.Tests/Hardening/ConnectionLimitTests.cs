using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;
using EchoHost.Transport.Tests.Support;
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

    [Fact]
    public async Task A_slot_comes_back_only_once_no_descriptor_of_the_host_refers_to_the_connections_socket()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:MaxConnections"] = "1", ["Echo:WriteTimeout"] = "2s" });
        var counter = host.Services.GetRequiredService<ConnectionCounter>();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(host.EchoEndPoint);
        var clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;

        // Replies the client never reads, then its FIN: the host's end lingers, sending, up to the write timeout.
        var line = Encoding.ASCII.GetBytes(new string('x', 999) + "\n");
        for (var i = 0; i < 100; i++)
        {
            await client.SendAsync(line);
        }

        client.Shutdown(SocketShutdown.Send);
        long? found = null;
        await Eventually.TrueAsync(() => (found = KernelView.ServerSideInode(host.EchoEndPoint.Port, clientPort)) is not null);
        var inode = found!.Value;
        var watched = Stopwatch.StartNew();
        while (true)
        {
            // The count first: a slot seen free while the socket is still open afterwards was given back too early.
            var count = counter.Count;
            if (!KernelView.IsOpen(inode))
            {
                break;
            }

            Assert.Equal(1, count);
            Assert.True(watched.Elapsed < TimeSpan.FromSeconds(10), "The host still holds the socket 10 s after the client's FIN, past its 2 s write timeout.");
            await Task.Delay(10);
        }

        await Eventually.TrueAsync(() => counter.Count == 0);
        await using var next = await host.ConnectAsync();
        await RoundTripAsync(next, "next");
    }

    private static async Task RoundTripAsync(EchoClient client, string text)
    {
        await client.SendAsync(text + "\n");
        Assert.Equal($"Echoed back: {text}\n", await client.ReceiveTextAsync($"Echoed back: {text}\n"));
    }
}
