using System.Buffers;
using System.Text;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Serilog;
using UpperCaseHost;

namespace EchoHost.Tests.Connections;

/// <summary>
/// The hosting layer carries a protocol that is not echo: the sample's, which upper-cases lines, runs through
/// the same middleware and runner, with no echo type involved.
/// </summary>
public sealed class GenericProtocolTests
{
    [Fact]
    public async Task A_test_only_protocol_runs_through_the_limit_logging_metrics_and_runner()
    {
        var logs = new LogCapture();
        await using var services = new ServiceCollection()
            .AddLogging(l => l.AddSerilog(new LoggerConfiguration().WriteTo.Sink(logs).CreateLogger(), dispose: true))
            .AddMetrics()
            .BuildServiceProvider();
        using var meter = new System.Diagnostics.Metrics.Meter("Test.Upper");
        var metrics = new ConnectionMetrics(meter, "upper");
        var pipeline = new ConnectionBuilder(services)
            .UseConnectionLimit(new ConnectionCounter(1, "Upper:MaxConnections=1"), metrics)
            .UseConnectionLifetimeLogging("Upper")
            .UseConnectionMetrics(metrics)
            .UseProtocol<UpperCaseProtocolFactory>(new ProtocolConnectionOptions())
            .Build();
        using var connection = new PipeConnection(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 4000));

        var run = connection.RunAsync(pipeline);
        await connection.SendAsync("hello\nwor"u8.ToArray());
        await connection.SendAsync("ld\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        Assert.Equal("HELLO\nWORLD\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
        await run;
        Assert.Equal("Connection from 127.0.0.1:4000", logs.Messages.First());
        Assert.Matches(@"closed: 12 bytes in, 12 bytes out", logs.Messages.Last());
        Assert.Equal(1, metrics.ClosedBy(ConnectionEndReason.PeerClosed));
    }

    [Fact]
    public async Task A_protocol_that_throws_still_hears_connection_lost_and_its_pipes_are_completed()
    {
        using var connection = new PipeConnection();
        var protocol = new ThrowingProtocol();
        var runner = StandaloneRunner.Create(connection, new ProtocolConnectionOptions()).Runner;

        var run = runner.RunAsync(protocol);
        await connection.SendAsync("boom\n"u8.ToArray());

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        Assert.Same(thrown, protocol.LostWith);
        Assert.Empty(await connection.ReadToEndAsync());
        Assert.Equal(ConnectionEndReason.Failed, runner.Outcome?.Reason);
    }

    [Fact]
    public async Task An_idle_close_does_not_run_the_connection_teardown_on_the_heartbeat_thread()
    {
        var time = new FakeTimeProvider();
        using var connection = new PipeConnection(inlineScheduling: true);
        var protocol = new ThreadRecordingProtocol();
        var runner = StandaloneRunner.Create(connection, new ProtocolConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5) }, time).Runner;
        var run = runner.RunAsync(protocol);

        // The fake clock runs the listener's heartbeat on this thread.
        var heartbeatThread = Environment.CurrentManagedThreadId;
        time.Advance(TimeSpan.FromSeconds(5));

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ConnectionEndReason.IdleTimeout, runner.Outcome?.Reason);
        Assert.NotEqual(heartbeatThread, protocol.LostOnThread);
    }

    [Fact]
    public async Task One_heartbeat_checks_every_connection_of_a_listener_of_hundreds()
    {
        // More connections than the heartbeat checks per hold of its lock: the walk goes on past the first stretch.
        var time = new FakeTimeProvider();
        var listener = new ProtocolConnections(new ProtocolConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(1) }, time, null, NullLogger.Instance);
        var connections = Enumerable.Range(0, 1000).Select(_ => new PipeConnection()).ToList();
        try
        {
            var runners = connections.Select(c => new ProtocolConnection(c.Context, listener)).ToList();
            var runs = runners.Select(r => r.RunAsync(new UpperCaseProtocol())).ToList();

            // One heartbeat, at 1 s.
            time.Advance(TimeSpan.FromSeconds(1));

            await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.All(runners, r => Assert.Equal(ConnectionEndReason.IdleTimeout, r.Outcome?.Reason));
        }
        finally
        {
            connections.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_partial_line_is_charged_to_the_memory_budget_while_it_is_held()
    {
        var budget = new MemoryBudget(1024 * 1024, 1);
        using var connection = new PipeConnection(inlineScheduling: true);
        var runner = StandaloneRunner.Create(connection, new ProtocolConnectionOptions { MemoryBudget = budget }).Runner;
        var run = runner.RunAsync(new UpperCaseProtocol());

        await connection.SendAsync("one\ntw"u8.ToArray());
        await Eventually.TrueAsync(() => budget.Held == 2);
        await connection.SendAsync("o and thr"u8.ToArray());
        await Eventually.TrueAsync(() => budget.Held == 11);
        await connection.SendAsync("ee\n"u8.ToArray());
        await Eventually.TrueAsync(() => budget.Held == 0);

        await connection.SendAsync("left over"u8.ToArray());
        await connection.ToServer.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public async Task The_protocol_hears_its_input_in_the_context_its_connection_started_in()
    {
        using var connection = new PipeConnection();
        var protocol = new ContextRecordingProtocol();
        var runner = StandaloneRunner.Create(connection, new ProtocolConnectionOptions()).Runner;

        // What a log scope keeps (Kestrel's names the connection); input arrives on a thread-pool thread without it.
        ContextRecordingProtocol.Scope.Value = "connection 1";
        var run = runner.RunAsync(protocol);
        ContextRecordingProtocol.Scope.Value = null;
        await connection.SendAsync("one\n"u8.ToArray());
        await Eventually.TrueAsync(() => protocol.Seen.Count == 1);
        await connection.SendAsync("two\n"u8.ToArray());
        await connection.ToServer.CompleteAsync();

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["connection 1", "connection 1", "connection 1"], protocol.Seen);
    }

    // Notes the scope each input and the end found; 'two' and the end of input may come in one read.
    private sealed class ContextRecordingProtocol : IConnectionProtocol
    {
        public static readonly AsyncLocal<string?> Scope = new();

        public List<string?> Seen { get; } = [];

        public void ConnectionMade(IProtocolTransport transport)
        {
        }

        public SequencePosition DataReceived(in ReadOnlySequence<byte> data)
        {
            if (!data.IsEmpty)
            {
                Seen.Add(Scope.Value);
            }

            return data.End;
        }

        public void EofReceived(in ReadOnlySequence<byte> unconsumed)
        {
        }

        public void ConnectionLost(Exception? exception) => Seen.Add(Scope.Value);
    }

    // The sample's protocol, noting on which thread it heard the connection end.
    private sealed class ThreadRecordingProtocol : IConnectionProtocol
    {
        private readonly UpperCaseProtocol _inner = new();

        public int LostOnThread { get; private set; }

        public void ConnectionMade(IProtocolTransport transport) => _inner.ConnectionMade(transport);

        public SequencePosition DataReceived(in ReadOnlySequence<byte> data) => _inner.DataReceived(data);

        public void EofReceived(in ReadOnlySequence<byte> unconsumed) => _inner.EofReceived(unconsumed);

        public void ConnectionLost(Exception? exception)
        {
            LostOnThread = Environment.CurrentManagedThreadId;
            _inner.ConnectionLost(exception);
        }
    }

    private sealed class ThrowingProtocol : IConnectionProtocol
    {
        public Exception? LostWith { get; private set; }

        public void ConnectionMade(IProtocolTransport transport)
        {
        }

        public SequencePosition DataReceived(in ReadOnlySequence<byte> data) => throw new InvalidOperationException("a protocol bug");

        public void EofReceived(in ReadOnlySequence<byte> unconsumed)
        {
        }

        public void ConnectionLost(Exception? exception) => LostWith = exception;
    }
}
