using System.Net;
using System.Text;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Echo;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Serilog.Events;

namespace EchoHost.Tests.Protocol;

/// <summary>The echo listener's connection pipeline, driven through in-memory pipes and a fake clock.</summary>
public sealed class EchoPipelineTests
{
    [Fact]
    public async Task Echoes_and_closes_its_side_after_the_peer_closes()
    {
        using var harness = new PipelineHarness();
        var (connection, run) = harness.Start();

        await connection.SendAsync("Hello, World!\r\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: Hello, World!\r\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run;
    }

    [Fact]
    public async Task Flushes_once_per_read_not_once_per_message()
    {
        using var harness = new PipelineHarness();
        var (connection, run) = harness.Start();

        await connection.SendAsync("a\nb\nc\nd\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: a\nEchoed back: b\nEchoed back: c\nEchoed back: d\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run;
        Assert.Equal(1, connection.ServerOutput.Flushes);
    }

    [Fact]
    public async Task Close_after_reply_completes_the_output_after_the_first_reply()
    {
        using var harness = new PipelineHarness(new EchoOptions { CloseAfterReply = true });
        var (connection, run) = harness.Start();

        await connection.SendAsync("first\nsecond\n"u8.ToArray());

        Assert.Equal("Echoed back: first\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_shutdown_request_replies_the_pending_partial_line_and_closes()
    {
        using var harness = new PipelineHarness();
        var (connection, run) = harness.Start();

        await connection.SendAsync("done\nhalf a li"u8.ToArray());

        // Kestrel's request, heard on the listener's next heartbeat.
        connection.RequestClose();
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("Echoed back: done\nEchoed back: half a li", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, harness.Metrics.ClosedBy(ConnectionEndReason.ServerShutdown));
    }

    [Fact]
    public async Task Logs_the_peer_the_payload_and_a_closing_line_with_byte_counts()
    {
        using var harness = new PipelineHarness();
        var peer = new IPEndPoint(IPAddress.Parse("127.0.0.1").MapToIPv6(), 54321);
        var (connection, run) = harness.Start(peer);

        await connection.SendAsync("Hello, World!\r\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();
        await connection.ReadToEndAsync();
        await run;

        var lines = harness.Logs.Messages.ToArray();
        Assert.Equal("Connection from 127.0.0.1:54321", lines[0]);
        Assert.Equal(@"Data received: 'Hello, World!\r\n'", lines[1]);
        Assert.Matches(@"^Connection from 127\.0\.0\.1:54321 closed: 15 bytes in, 28 bytes out, \d+\.\d{3} s$", lines[2]);
        Assert.All(harness.Logs.Events, e => Assert.Equal(LogEventLevel.Information, e.Level));
    }

    [Fact]
    public async Task A_peer_that_connects_and_leaves_without_data_logs_nothing_above_information()
    {
        using var harness = new PipelineHarness();
        var (connection, run) = harness.Start();

        await connection.ToServer.CompleteAsync();

        Assert.Empty(await connection.ReadToEndAsync());
        await run;
        Assert.All(harness.Logs.Events, e => Assert.True(e.Level <= LogEventLevel.Information));
        Assert.DoesNotContain(harness.Logs.Messages, m => m.StartsWith("Data received", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reset_mid_line_ends_the_connection_quietly()
    {
        using var harness = new PipelineHarness();
        var (connection, run) = harness.Start();

        await connection.SendAsync("half a li"u8.ToArray());
        await connection.ToServer.CompleteAsync(new ConnectionResetException("reset by peer"));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(harness.Logs.Events, e => e.Level > LogEventLevel.Information);
        Assert.Contains(harness.Logs.Events, e => e.Level == LogEventLevel.Debug && e.Message.Contains("reset by peer", StringComparison.Ordinal));
        Assert.Equal(1, harness.Metrics.ClosedBy(ConnectionEndReason.Failed));
    }

    [Fact]
    public async Task An_idle_connection_is_closed_on_a_heartbeat_after_the_timeout_and_its_partial_line_answered()
    {
        using var harness = new PipelineHarness(new EchoOptions { IdleTimeout = TimeSpan.FromSeconds(30) });
        var (connection, run) = harness.Start();
        await connection.SendAsync("tick\nhalf"u8.ToArray());
        Assert.Equal("Echoed back: tick\n", Encoding.UTF8.GetString(await connection.ReceiveExactlyAsync(18)));

        // The line counts from the first heartbeat after it, at 1 s: still open on the one at 30 s, closed at 31 s.
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        harness.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("Echoed back: half", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(harness.Logs.Events, e => e.Level == LogEventLevel.Information && e.Message.EndsWith("sent nothing for 00:00:30: closing it", StringComparison.Ordinal));
        Assert.Equal(1, harness.Metrics.ClosedBy(ConnectionEndReason.IdleTimeout));
    }

    [Fact]
    public async Task Input_between_heartbeats_counts_from_the_next_one_so_no_connection_is_closed_early()
    {
        using var harness = new PipelineHarness(new EchoOptions { IdleTimeout = TimeSpan.FromSeconds(30) });
        var (connection, run) = harness.Start();
        harness.Time.Advance(TimeSpan.FromMilliseconds(500));
        await connection.SendAsync("tick\n"u8.ToArray());
        Assert.Equal("Echoed back: tick\n", Encoding.UTF8.GetString(await connection.ReceiveExactlyAsync(18)));
        harness.Time.Advance(TimeSpan.FromMilliseconds(500));

        // 30 s after the input, but 29.5 s after the heartbeat that saw it: still open.
        harness.Time.Advance(TimeSpan.FromSeconds(29.5));
        await connection.SendAsync("tock\n"u8.ToArray());
        Assert.Equal("Echoed back: tock\n", Encoding.UTF8.GetString(await connection.ReceiveExactlyAsync(18)));

        await connection.ToServer.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, harness.Metrics.ClosedBy(ConnectionEndReason.IdleTimeout));
    }

    [Fact]
    public async Task A_connection_that_keeps_sending_outlives_its_idle_timeout()
    {
        using var harness = new PipelineHarness(new EchoOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        var (connection, run) = harness.Start();

        // Each reply proves the server saw the line just now; 6 x 300 ms outlasts the 1 s timeout.
        for (var i = 0; i < 6; i++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(300));
            await connection.SendAsync("tick\n"u8.ToArray());
            Assert.Equal("Echoed back: tick\n", Encoding.UTF8.GetString(await connection.ReceiveExactlyAsync(18)));
        }

        Assert.False(run.IsCompleted);
        await connection.ToServer.CompleteAsync();
        await run;
    }

    [Fact]
    public async Task A_zero_idle_timeout_never_closes()
    {
        using var harness = new PipelineHarness(new EchoOptions { IdleTimeout = TimeSpan.Zero });
        var (connection, run) = harness.Start();

        harness.Time.Advance(TimeSpan.FromHours(1));

        Assert.False(run.IsCompleted);
        await connection.ToServer.CompleteAsync();
        await run;
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_aborted_after_the_write_timeout()
    {
        using var harness = new PipelineHarness(new EchoOptions { WriteTimeout = TimeSpan.FromSeconds(60), IdleTimeout = TimeSpan.Zero });
        var (connection, run) = harness.Start(serverOutputLimit: 1024);

        // The replies fill the 1 KiB the peer's side will take; the server's flush then waits for a read.
        await connection.SendAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(new string('x', 99) + "\n", 20))));
        await StalledAsync(harness);

        harness.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connection.Aborted);
        Assert.Equal(1, harness.Metrics.ClosedBy(ConnectionEndReason.WriteTimeout));
        Assert.Contains(harness.Logs.Events, e => e.Level == LogEventLevel.Information && e.Message.Contains("read none of its replies for 00:01:00: aborting it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Asked_to_close_with_replies_unread_a_connection_keeps_its_write_timeout()
    {
        using var harness = new PipelineHarness(new EchoOptions { WriteTimeout = TimeSpan.FromSeconds(60), IdleTimeout = TimeSpan.Zero });
        var (connection, run) = harness.Start(serverOutputLimit: 1024);
        await connection.SendAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(new string('x', 99) + "\n", 20))));
        await StalledAsync(harness);

        // Shutdown: Kestrel asks the connection to close; the listener's heartbeat hears it, and goes on checking.
        connection.RequestClose();
        harness.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(2));

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connection.Aborted);
        Assert.Equal(1, harness.Metrics.ClosedBy(ConnectionEndReason.WriteTimeout));
    }

    [Fact]
    public async Task Over_the_limit_a_connection_is_closed_unanswered_and_the_slot_frees_when_one_ends()
    {
        using var harness = new PipelineHarness(new EchoOptions { MaxConnections = 1 });

        var (first, firstRun) = harness.Start();
        var (second, secondRun) = harness.Start();
        await second.SendAsync("hello?\n"u8.ToArray());

        Assert.Empty(await second.ReadToEndAsync());
        await secondRun;
        Assert.Contains(harness.Logs.Events, e => e.Level == LogEventLevel.Warning && e.Message.StartsWith("Rejected 1 connection(s) over Echo:MaxConnections=1", StringComparison.Ordinal));

        await first.ToServer.CompleteAsync();
        await firstRun;
        Assert.Equal(0, harness.Counter.Count);

        var (third, thirdRun) = harness.Start();
        await third.SendAsync("now\n"u8.ToArray());
        await third.ToServer.CompleteAsync();
        Assert.Equal("Echoed back: now\n", Encoding.UTF8.GetString(await third.ReadToEndAsync()));
        await thirdRun;
    }

    [Theory]
    [InlineData("::1", "[::1]:7")]
    [InlineData("10.1.2.3", "10.1.2.3:7")]
    public void Formats_peers_plainly(string address, string expected)
    {
        Assert.Equal(expected, PeerAddress.Format(new IPEndPoint(IPAddress.Parse(address), 7)));
    }

    // The runner saw its flush wait, and noted when, before the test moves the clock.
    private static Task StalledAsync(PipelineHarness harness) =>
        Eventually.TrueAsync(() => harness.Memory.Held >= harness.Memory.StalledConnectionBytes);
}
