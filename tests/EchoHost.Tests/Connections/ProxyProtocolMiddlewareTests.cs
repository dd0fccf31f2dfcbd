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
