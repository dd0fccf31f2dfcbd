using System.Diagnostics.Metrics;
using System.Net;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;

namespace EchoHost.Tests.Connections;

/// <summary>
/// The limit, lifetime-log and metrics middleware leave their end-of-connection work with the host's completion
/// feature: while a connection is open none of them waits on it, and that work still runs once it ends, in order
/// and in the connection's log scope.
/// </summary>
public sealed class MiddlewareCompletionTests : IAsyncDisposable
{
    private readonly LogCapture _events = new();
    private readonly ServiceProvider _services;
    private readonly Meter _meter = new("Test.Completion");
    private readonly ConnectionCounter _counter = new(1, "Test:MaxConnections=1");
    private readonly ConnectionMetrics _metrics;
    private readonly TaskCompletionSource _protocol = new();
    private readonly ConnectionDelegate _pipeline;

    public MiddlewareCompletionTests()
    {
        _services = new ServiceCollection()
            .AddLogging(l => l.AddSerilog(new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(_events).CreateLogger(), dispose: true))
            .BuildServiceProvider();
        _metrics = new ConnectionMetrics(_meter, "test");
        _pipeline = new ConnectionBuilder(_services)
            .UseConnectionLimit(_counter, _metrics)
            .UseConnectionLifetimeLogging("Test.Connections")
            .UseConnectionMetrics(_metrics)
            .Run(_ => _protocol.Task)
            .Build();
    }

    [Fact]
    public async Task An_open_connection_is_the_protocols_own_task_and_its_end_releases_the_slot_logs_and_counts()
    {
        using var connection = new PipeConnection(new IPEndPoint(IPAddress.Loopback, 4000));
        Task? returned = null;

        var run = connection.RunAsync(context => returned = _pipeline(context));

        Assert.Same(_protocol.Task, returned);
        Assert.Equal(1, _counter.Count);
        Assert.Equal(1, _metrics.Active);
        Assert.Equal(["Connection from 127.0.0.1:4000"], _events.Messages);

        _protocol.SetResult();
        await run;

        Assert.Equal(0, _counter.Count);
        Assert.Equal(0, _metrics.Active);
        Assert.Equal(1, _metrics.ClosedBy(ConnectionEndReason.Failed));
        Assert.StartsWith("Connection from 127.0.0.1:4000 closed:", _events.Messages.Last());
    }

    [Fact]
    public async Task The_closing_line_is_written_in_the_connections_log_scope_after_the_host_has_left_it()
    {
        using var connection = new PipeConnection(new IPEndPoint(IPAddress.Loopback, 4000));
        var kestrel = _services.GetRequiredService<ILoggerFactory>().CreateLogger("Kestrel");

        // As Kestrel does: the scope covers the pipeline, and completion runs after it has ended.
        var run = connection.RunAsync(async context =>
        {
            using (kestrel.BeginScope(new Dictionary<string, object> { ["ConnectionId"] = "0HTEST" }))
            {
                await _pipeline(context);
            }
        });
        _protocol.SetResult();
        await run;

        var closed = Assert.Single(_events.Events, e => e.Message.Contains("closed:", StringComparison.Ordinal));
        Assert.Equal("\"0HTEST\"", closed.Properties["ConnectionId"].ToString());
    }

    [Fact]
    public async Task A_connection_over_the_limit_registers_nothing_and_leaves_the_slot_to_the_open_one()
    {
        using var first = new PipeConnection();
        using var second = new PipeConnection();
        var open = first.RunAsync(_pipeline);

        await second.RunAsync(_pipeline);

        Assert.Empty(await second.ReadToEndAsync());
        Assert.Equal(1, _counter.Count);
        _protocol.SetResult();
        await open;
        Assert.Equal(0, _counter.Count);
    }

    public async ValueTask DisposeAsync()
    {
        _meter.Dispose();
        await _services.DisposeAsync();
    }
}
