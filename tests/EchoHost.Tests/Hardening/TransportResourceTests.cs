using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Support;
using EchoHost.Transport.Tests.Support;

namespace EchoHost.Tests.Hardening;

/// <summary>
/// The published host under clients that cost it memory or sockets, judged by what the kernel and the metrics
/// show: its resident memory, the TCP table, the exported counters. Runs on whichever transport
/// <c>Transport__Kind</c> names, as every process test does.
/// </summary>
[Collection(SerialTests.Name)]
public sealed class TransportResourceTests
{
    private static bool OnSockets => Environment.GetEnvironmentVariable("Transport__Kind") == "Sockets";

    [Fact]
    public async Task A_client_that_sends_lines_and_fin_but_never_reads_is_gone_within_the_write_timeout_and_counted()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Echo:WriteTimeout=2s", "--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        using var http = new HttpClient { BaseAddress = await host.WaitForHealthListenerAsync(), Timeout = TimeSpan.FromSeconds(10) };
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(echo);
        var clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;

        // About 100 KiB of replies: more than the client's window, less than the output pipe and the host's send buffer.
        var line = Encoding.ASCII.GetBytes(new string('x', 999) + "\n");
        for (var i = 0; i < 100; i++)
        {
            await client.SendAsync(line);
        }

        client.Shutdown(SocketShutdown.Send);
        var sent = DateTime.UtcNow;
        while (KernelView.ServerSideState(echo.Port, clientPort) is { } state)
        {
            Assert.True(DateTime.UtcNow - sent < TimeSpan.FromSeconds(4), $"the host's end is still {state} {(DateTime.UtcNow - sent).TotalSeconds:0.0} s after the client's FIN, past the 2 s write timeout + 2 s");
            await Task.Delay(50);
        }

        // Kestrel's socket transport closes the socket as soon as it has handed the replies to the kernel, which
        // then drops them at the same timeout (TCP_USER_TIMEOUT): the host saw a peer that closed.
        var reason = OnSockets ? "peer_closed" : "write_timeout";
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains($"echohost_connections_closed_total{{otel_scope_name=\"EchoHost\",reason=\"{reason}\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("echohost_connections_active{otel_scope_name=\"EchoHost\"} 0", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_dripping_an_unfinished_line_one_byte_per_segment_cost_the_host_a_block_each_not_a_block_per_byte()
    {
        const int clients = 200;
        const int bytes = 2000;
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(echo);
                sockets.Add(socket);
            }

            await RoundTripAsync(sockets[0], "warm\n");
            var before = host.ResidentBytes();
            var drip = new[] { (byte)'x' };
            for (var i = 0; i < bytes; i++)
            {
                foreach (var socket in sockets)
                {
                    socket.Send(drip);
                }
            }

            await Eventually.TrueAsync(() => ServerReadEverything(echo.Port), TimeSpan.FromSeconds(30));
            var perClient = (host.ResidentBytes() - before) / clients;
            Assert.True(perClient <= 64 * 1024, $"{perClient / 1024.0:0.0} KiB of resident memory per client holding a {bytes}-byte partial line");

            // Nothing was lost on the way: the line is whole once it ends.
            Assert.Equal("Echoed back: " + new string('x', bytes) + "\n", await RoundTripAsync(sockets[^1], "\n"));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<string> RoundTripAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text));
        var reply = new StringBuilder();
        var buffer = new byte[64 * 1024];
        while (!reply.ToString().EndsWith('\n'))
        {
            var read = await socket.ReceiveAsync(buffer);
            Assert.True(read > 0, "the host closed the connection");
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString();
    }

    // Every receive queue of the host's ends on the port is empty: it has read all that was dripped.
    private static bool ServerReadEverything(int port)
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1];
                if (int.Parse(local[(local.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port
                    && fields[3] == "01" && fields[4].Split(':')[1] != "00000000")
                {
                    return false;
                }
            }
        }

        return true;
    }
}
