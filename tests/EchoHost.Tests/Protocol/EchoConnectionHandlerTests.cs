using System.Net;
using System.Text;
using EchoHost.Protocol.Connections;
using EchoHost.Protocol.Echo;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EchoHost.Tests.Protocol;

/// <summary>The ConnectionHandler adapter, driven through in-memory pipes instead of sockets.</summary>
public sealed class EchoConnectionHandlerTests : IDisposable
{
    private readonly List<PipeConnection> _connections = [];

    private EchoConnections Connections { get; } = new(maxConnections: 10, TimeProvider.System);
    private readonly RecordingLogger<EchoConnectionHandler> _connectionLog = new();
    private readonly RecordingLogger<EchoProtocol> _protocolLog = new();

    private (PipeConnection Connection, Task Run) Start(EchoOptions? options = null, EndPoint? peer = null)
    {
        options ??= new EchoOptions();
        var handler = new EchoConnectionHandler(new EchoBehavior(options), Connections, _connectionLog, _protocolLog);
        var connection = new PipeConnection(peer);
        _connections.Add(connection);
        return (connection, handler.OnConnectedAsync(connection.Context));
    }

    [Fact]
    public async Task Echoes_and_closes_its_side_after_the_peer_closes()
    {
        var (connection, run) = Start();

        await connection.SendAsync("Hello, World!\r\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: Hello, World!\r\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run;
    }

    [Fact]
    public async Task Flushes_once_per_read_not_once_per_message()
    {
        var (connection, run) = Start();

        await connection.SendAsync("a\nb\nc\nd\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("Echoed back: a\nEchoed back: b\nEchoed back: c\nEchoed back: d\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run;
        Assert.Equal(1, connection.ServerOutput.Flushes);
    }

    [Fact]
    public async Task Close_after_reply_completes_the_output_after_the_first_reply()
    {
        var (connection, run) = Start(new EchoOptions { CloseAfterReply = true });

        await connection.SendAsync("first\nsecond\n"u8.ToArray());

        Assert.Equal("Echoed back: first\n", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_shutdown_request_replies_the_pending_partial_line_and_closes()
    {
        var (connection, run) = Start();

        await connection.SendAsync("done\nhalf a li"u8.ToArray());
        connection.RequestClose();

        Assert.Equal("Echoed back: done\nEchoed back: half a li", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Logs_the_peer_the_payload_and_a_closing_line_with_byte_counts()
    {
        var peer = new IPEndPoint(IPAddress.Parse("127.0.0.1").MapToIPv6(), 54321);
        var (connection, run) = Start(peer: peer);

        await connection.SendAsync("Hello, World!\r\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();
        await connection.ReadToEndAsync();
        await run;

        var lines = _connectionLog.Entries.Select(e => e.Message).ToArray();
        Assert.Equal("Connection from 127.0.0.1:54321", lines[0]);
        Assert.Matches(@"^Connection from 127\.0\.0\.1:54321 closed: 15 bytes in, 28 bytes out, \d+\.\d{3} s$", lines[1]);
        Assert.Equal(@"Data received: 'Hello, World!\r\n'", _protocolLog.Entries.Single().Message);
        Assert.All(_connectionLog.Entries, e => Assert.Equal(LogLevel.Information, e.Level));
    }

    [Fact]
    public async Task A_peer_that_connects_and_leaves_without_data_logs_nothing_above_information()
    {
        var (connection, run) = Start();

        await connection.ToServer.CompleteAsync();

        Assert.Empty(await connection.ReadToEndAsync());
        await run;
        Assert.All(_connectionLog.Entries.Concat(_protocolLog.Entries), e => Assert.True(e.Level <= LogLevel.Information));
        Assert.Empty(_protocolLog.Entries);
    }

    [Fact]
    public async Task A_reset_mid_line_ends_the_connection_quietly()
    {
        var (connection, run) = Start();

        await connection.SendAsync("half a li"u8.ToArray());
        await connection.ToServer.CompleteAsync(new Microsoft.AspNetCore.Connections.ConnectionResetException("reset by peer"));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(_connectionLog.Entries, e => e.Level > LogLevel.Information);
        Assert.Contains(_connectionLog.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("reset by peer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_idle_connection_is_closed_on_a_heartbeat_after_the_timeout_and_its_partial_line_answered()
    {
        var (connection, run) = Start(new EchoOptions { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        await connection.SendAsync("half"u8.ToArray());

        connection.Heartbeat();
        Assert.False(run.IsCompleted);
        await Task.Delay(600);
        connection.Heartbeat();

        Assert.Equal("Echoed back: half", Encoding.UTF8.GetString(await connection.ReadToEndAsync()));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(_connectionLog.Entries, e => e.Level == LogLevel.Information && e.Message.EndsWith("sent nothing for 00:00:00.5000000: closing it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_that_keeps_sending_outlives_its_idle_timeout()
    {
        var (connection, run) = Start(new EchoOptions { IdleTimeout = TimeSpan.FromSeconds(1) });

        // Each reply proves the server saw the line just now; 6 x 300 ms outlasts the 1 s timeout.
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(300);
            await connection.SendAsync("tick\n"u8.ToArray());
            Assert.Equal("Echoed back: tick\n", Encoding.UTF8.GetString(await connection.ReceiveExactlyAsync(18)));
            connection.Heartbeat();
        }

        Assert.False(run.IsCompleted);
        await connection.ToServer.CompleteAsync();
        await run;
    }

    [Fact]
    public async Task A_zero_idle_timeout_never_closes()
    {
        var (connection, run) = Start(new EchoOptions { IdleTimeout = TimeSpan.Zero });

        await Task.Delay(50);
        connection.Heartbeat();
        await Task.Delay(50);

        Assert.False(run.IsCompleted);
        await connection.ToServer.CompleteAsync();
        await run;
    }

    [Fact]
    public async Task Over_the_limit_a_connection_is_closed_unanswered_and_the_slot_frees_when_one_ends()
    {
        var limited = new EchoConnections(maxConnections: 1, TimeProvider.System);
        var handler = new EchoConnectionHandler(new EchoBehavior(new EchoOptions()), limited, _connectionLog, _protocolLog);
        using var first = new PipeConnection();
        using var second = new PipeConnection();
        using var third = new PipeConnection();

        var firstRun = handler.OnConnectedAsync(first.Context);
        var secondRun = handler.OnConnectedAsync(second.Context);
        await second.SendAsync("hello?\n"u8.ToArray());

        Assert.Empty(await second.ReadToEndAsync());
        await secondRun;
        Assert.Contains(_connectionLog.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("Rejected 1 connection(s) over Echo:MaxConnections=1", StringComparison.Ordinal));

        await first.ToServer.CompleteAsync();
        await firstRun;
        Assert.Equal(0, limited.Active);

        var thirdRun = handler.OnConnectedAsync(third.Context);
        await third.SendAsync("now\n"u8.ToArray());
        await third.ToServer.CompleteAsync();
        Assert.Equal("Echoed back: now\n", Encoding.UTF8.GetString(await third.ReadToEndAsync()));
        await thirdRun;
    }

    public void Dispose() => _connections.ForEach(c => c.Dispose());

    [Theory]
    [InlineData("::1", "[::1]:7")]
    [InlineData("10.1.2.3", "10.1.2.3:7")]
    public void Formats_peers_plainly(string address, string expected)
    {
        Assert.Equal(expected, PeerAddress.Format(new IPEndPoint(IPAddress.Parse(address), 7)));
    }
}
