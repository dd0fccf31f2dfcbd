using System.Net;
using System.Text;
using EchoHost.Tests.Support;
using Serilog.Events;

namespace EchoHost.Tests.Connections;

/// <summary>The PROXY header in front of the echo pipeline, over in-memory pipes and a fake clock.</summary>
public sealed class ProxyProtocolMiddlewareTests
{
    private static readonly IPEndPoint Balancer = new(IPAddress.Parse("10.0.0.5"), 40000);

    [Fact]
    public async Task A_header_in_pieces_names_the_client_and_the_bytes_after_it_are_echoed()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var (connection, run) = harness.Start(Balancer);

        await connection.SendAsync("PROXY TCP4 203.0.1"u8.ToArray());
        await connection.SendAsync("13.7 192.0.2.1 51234 8888\r\nHello\nWor"u8.ToArray());
        await connection.SendAsync("ld\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: Hello\nEchoed back: World\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
        await run;
        Assert.Equal("Connection from 203.0.113.7:51234", harness.Logs.Messages.First());
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 51234), connection.Context.RemoteEndPoint);
    }

    [Fact]
    public async Task With_trusted_networks_a_header_from_any_other_peer_is_never_read_and_each_peer_is_reported_once_per_interval()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5), trustedProxies: [IPNetwork.Parse("10.0.0.0/8")]);
        var forger = new IPEndPoint(IPAddress.Parse("192.0.2.9"), 50000);
        const string forged = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 8888\r\nHello\n";

        for (var i = 0; i < 3; i++)
        {
            var (connection, run) = harness.Start(forger);
            await connection.SendAsync(Encoding.ASCII.GetBytes(forged));
            Assert.Empty(await connection.ReadToEndAsync());
            await run;
        }

        harness.Time.Advance(TimeSpan.FromSeconds(10));
        var (late, lateRun) = harness.Start(forger);
        Assert.Empty(await late.ReadToEndAsync());
        await lateRun;

        var warnings = harness.Logs.Events.Where(e => e.Level == LogEventLevel.Warning).Select(e => e.Message).ToArray();
        Assert.Equal(
            [
                "Closed 1 connection(s) from 192.0.2.9:50000 unread: not a trusted proxy (Echo:ProxyProtocolTrustedNetworks); reported at most once per 10 s per peer",
                "Closed 3 connection(s) from 192.0.2.9:50000 unread: not a trusted proxy (Echo:ProxyProtocolTrustedNetworks); reported at most once per 10 s per peer",
            ],
            warnings);
        Assert.DoesNotContain(harness.Logs.Messages, m => m.Contains("203.0.113.7", StringComparison.Ordinal));
        Assert.Equal(0, harness.Counter.Count);

        // The balancer, seen through a dual-stack listener as an IPv4-mapped address, is believed.
        var (trusted, trustedRun) = harness.Start(new IPEndPoint(IPAddress.Parse("10.0.0.5").MapToIPv6(), 40000));
        await trusted.SendAsync(Encoding.ASCII.GetBytes(forged));
        await trusted.ToServer.CompleteAsync();
        Assert.Equal("Echoed back: Hello\n", Encoding.ASCII.GetString(await trusted.ReadToEndAsync()));
        await trustedRun;
        Assert.Contains("Connection from 203.0.113.7:51234", harness.Logs.Messages);
    }

    [Fact]
    public async Task Connections_through_one_balancer_address_share_one_destination_endpoint()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var destinations = new List<EndPoint?>();
        foreach (var header in new[]
                 {
                     "PROXY TCP4 203.0.113.7 192.0.2.1 51234 8888\r\n",
                     "PROXY TCP4 203.0.113.8 192.0.2.1 51235 8888\r\n",
                     "PROXY TCP4 203.0.113.9 192.0.2.2 51236 8888\r\n",
                 })
        {
            var (connection, run) = harness.Start(Balancer);
            await connection.SendAsync(Encoding.ASCII.GetBytes(header + "ping\n"));
            await connection.ToServer.CompleteAsync();
            Assert.Equal("Echoed back: ping\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
            await run;
            destinations.Add(connection.Context.LocalEndPoint);
        }

        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8888), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8888), new IPEndPoint(IPAddress.Parse("192.0.2.2"), 8888)],
            destinations);
        Assert.Same(destinations[0], destinations[1]);
    }

    [Fact]
    public async Task A_v2_local_header_keeps_the_socket_address()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var (connection, run) = harness.Start(Balancer);

        await connection.SendAsync(ProxyHeaderParserTests.V2(0x20, 0x00, [], [], 0, 0).Concat("ping\n"u8.ToArray()).ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: ping\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
        await run;
        Assert.Equal("Connection from 10.0.0.5:40000", harness.Logs.Messages.First());
    }

    [Fact]
    public async Task A_plain_connection_is_closed_without_a_reply_logged_at_information_and_counted()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var (connection, run) = harness.Start(Balancer);

        await connection.SendAsync("Hello\n"u8.ToArray());

        Assert.Empty(await connection.ReadToEndAsync());
        await run;
        var line = Assert.Single(harness.Logs.Events);
        Assert.Equal(LogEventLevel.Information, line.Level);
        Assert.Equal("Closed connection from 10.0.0.5:40000 without a reply: it did not start with a PROXY protocol header", line.Message);
        Assert.Equal(0, harness.Counter.Count);
    }

    [Fact]
    public async Task A_client_that_sends_part_of_a_header_and_then_nothing_is_closed_at_the_timeout()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var (connection, run) = harness.Start(Balancer);

        await connection.SendAsync("PROXY TCP4 "u8.ToArray());
        await Task.Yield();
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(await connection.ReadToEndAsync());
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(harness.Logs.Messages, m => m.EndsWith("no complete PROXY header within 00:00:05", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_closes_before_its_header_is_complete_is_closed_quietly()
    {
        using var harness = new PipelineHarness(proxyTimeout: TimeSpan.FromSeconds(5));
        var (connection, run) = harness.Start(Balancer);

        await connection.SendAsync("PROXY TCP4 1.2"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Empty(await connection.ReadToEndAsync());
        await run;
        Assert.Contains(harness.Logs.Messages, m => m.EndsWith("it closed before its PROXY header was complete", StringComparison.Ordinal));
        Assert.DoesNotContain(harness.Logs.Events, e => e.Level > LogEventLevel.Information);
    }
}
