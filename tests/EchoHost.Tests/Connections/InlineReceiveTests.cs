using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using EchoHost.Connections.Protocols;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using UpperCaseHost;

namespace EchoHost.Tests.Connections;

/// <summary>
/// The runner on a transport that offers the inline path: it starts parked, without reading the pipe, and parks
/// between turns with nothing held; it hears input and replies without the pipes, goes back to the pipe for what it
/// leaves or for what reached the pipe before it attached, and a shutdown, an idle timeout or the peer's end still
/// reach it while it is parked.
/// </summary>
public sealed class InlineReceiveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public Task The_runner_starts_parked_and_hears_input_and_replies_inline_from_the_first_byte() => WithoutSynchronizationContext(async () =>
        {
            using var parked = await ParkedAfterOneLineAsync();
            Assert.Equal((1, 1), (parked.Transport.InlineTurns, parked.Transport.InlineSends));

            await parked.Transport.ReceiveAsync("two\nthree\n"u8.ToArray());
            Assert.Equal((2, 2), (parked.Transport.InlineTurns, parked.Transport.InlineSends));
            Assert.True(parked.Transport.IsParked);
            await parked.Transport.EndAsync();

            Assert.Equal("ONE\nTWO\nTHREE\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.PeerClosed, parked.Runner.Outcome?.Reason);
            Assert.Equal(14, parked.Runner.BytesReceived);
        });

    [Fact]
    public Task Input_left_unconsumed_inline_is_offered_again_from_the_pipe_with_what_follows() => WithoutSynchronizationContext(async () =>
        {
            using var parked = await ParkedAfterOneLineAsync();

            await parked.Transport.ReceiveAsync("tw"u8.ToArray());
            Assert.False(parked.Transport.IsParked);
            await parked.Transport.ReceiveAsync("o\n"u8.ToArray());
            Assert.True(parked.Transport.IsParked);
            await parked.Transport.EndAsync();

            Assert.Equal("ONE\nTWO\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(2, parked.Transport.InlineTurns);
            Assert.Equal(8, parked.Runner.BytesReceived);
        });

    [Fact]
    public Task A_runner_that_read_the_pipe_replies_as_inline_turns_do_lets_go_of_it_as_it_parks_and_takes_it_again() =>
        WithoutSynchronizationContext(async () =>
        {
            using var parked = await ParkedAfterOneLineAsync();
            Assert.Equal(0, parked.Transport.InputReleases);

            await parked.Transport.ReceiveAsync("tw"u8.ToArray());
            await parked.Transport.ReceiveAsync("o\n"u8.ToArray());
            Assert.True(parked.Transport.IsParked);
            Assert.Equal(1, parked.Transport.InputReleases);
            Assert.Equal(2, parked.Transport.InlineSends);

            await parked.Transport.ReceiveAsync("thr"u8.ToArray());
            await parked.Transport.ReceiveAsync("ee\n"u8.ToArray());
            Assert.True(parked.Transport.IsParked);
            Assert.Equal(2, parked.Transport.InputReleases);
            await parked.Transport.EndAsync();

            Assert.Equal("ONE\nTWO\nTHREE\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.PeerClosed, parked.Runner.Outcome?.Reason);
        });

    [Fact]
    public Task Input_that_reached_the_pipe_before_the_runner_attached_is_read_first_and_in_order() => WithoutSynchronizationContext(async () =>
        {
            using var connection = new PipeConnection(inlineScheduling: true);
            var transport = new InlineTransport(connection);
            await transport.ReceiveAsync("one\ntw"u8.ToArray());
            var runner = StandaloneRunner.Create(connection).Runner;
            var run = runner.RunAsync(new UpperCaseProtocol());

            Assert.False(transport.IsParked);
            await transport.ReceiveAsync("o\n"u8.ToArray());
            Assert.True(transport.IsParked);
            await transport.ReceiveAsync("three\n"u8.ToArray());
            await transport.EndAsync();

            Assert.Equal("ONE\nTWO\nTHREE\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
            await run.WaitAsync(Bound);
            Assert.Equal(1, transport.InlineTurns);
        });

    [Fact]
    public Task A_shutdown_request_wakes_a_parked_runner_which_ends_with_fin() => WithoutSynchronizationContext(async () =>
        {
            // A clock that never moves: no heartbeat passes the request on.
            using var parked = await ParkedAfterOneLineAsync(time: new FakeTimeProvider());

            // As the host stops: the listener hears Kestrel's requests at once, and Kestrel asks.
            parked.Listener.HearCloseRequestsAtOnce();
            parked.Connection.RequestClose();

            Assert.Equal("ONE\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.ServerShutdown, parked.Runner.Outcome?.Reason);
        });

    [Fact]
    public Task Kestrels_close_request_is_heard_on_the_listeners_next_heartbeat() => WithoutSynchronizationContext(async () =>
        {
            var time = new FakeTimeProvider();
            using var parked = await ParkedAfterOneLineAsync(time: time);

            parked.Connection.RequestClose();
            Assert.False(parked.Run.IsCompleted);
            time.Advance(TimeSpan.FromSeconds(1));

            Assert.Equal("ONE\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.ServerShutdown, parked.Runner.Outcome?.Reason);
        });

    [Fact]
    public Task A_connection_that_starts_when_kestrel_asked_to_close_already_ends_at_once() => WithoutSynchronizationContext(async () =>
        {
            using var connection = new PipeConnection(inlineScheduling: true);
            var transport = new InlineTransport(connection);
            var (listener, runner) = StandaloneRunner.Create(connection, time: new FakeTimeProvider());
            listener.HearCloseRequestsAtOnce();
            connection.RequestClose();

            var run = runner.RunAsync(new UpperCaseProtocol());

            Assert.Empty(await connection.ReadToEndAsync());
            await run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.ServerShutdown, runner.Outcome?.Reason);
            Assert.False(transport.IsParked);
        });

    [Fact]
    public Task A_shutdown_requested_during_a_turn_from_the_pipe_is_heard_after_the_runner_let_the_pipe_go() =>
        WithoutSynchronizationContext(async () =>
        {
            using var parked = await ParkedAfterOneLineAsync(time: new FakeTimeProvider(), protocol: connection => new ClosingOnLine("two", connection));
            parked.Listener.HearCloseRequestsAtOnce();
            await parked.Transport.ReceiveAsync("tw"u8.ToArray());

            await parked.Transport.ReceiveAsync("o\n"u8.ToArray());

            Assert.Equal("ONE\nTWO\n", Encoding.ASCII.GetString(await parked.Connection.ReadToEndAsync()));
            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.ServerShutdown, parked.Runner.Outcome?.Reason);
            Assert.Equal(1, parked.Transport.InputReleases);
        });

    [Fact]
    public Task An_idle_timeout_ends_a_parked_connection() => WithoutSynchronizationContext(async () =>
        {
            var time = new FakeTimeProvider();
            using var parked = await ParkedAfterOneLineAsync(new ProtocolConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5) }, time);

            // The line counts from the first heartbeat after it, at 1 s; the timeout is up on the one at 6 s.
            time.Advance(TimeSpan.FromSeconds(1));
            time.Advance(TimeSpan.FromSeconds(4));
            Assert.False(parked.Run.IsCompleted);
            time.Advance(TimeSpan.FromSeconds(1));

            await parked.Run.WaitAsync(Bound);
            Assert.Equal(ConnectionEndReason.IdleTimeout, parked.Runner.Outcome?.Reason);
        });

    [Fact]
    public Task A_runner_reading_pipes_that_middleware_put_in_place_keeps_to_them() => WithoutSynchronizationContext(async () =>
        {
            using var connection = new PipeConnection(inlineScheduling: true);
            var transport = new InlineTransport(connection);
            var middleware = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline));
            connection.Context.Transport = new DuplexPipe(middleware.Reader, connection.Context.Transport.Output);
            var runner = StandaloneRunner.Create(connection).Runner;
            var run = runner.RunAsync(new UpperCaseProtocol());

            await middleware.Writer.WriteAsync("one\n"u8.ToArray());
            await middleware.Writer.CompleteAsync();

            Assert.Equal("ONE\n", Encoding.ASCII.GetString(await connection.ReadToEndAsync()));
            await run.WaitAsync(Bound);
            Assert.False(transport.IsAttached);
            Assert.Equal(0, transport.InlineTurns);
        });

    // As on Kestrel's and the reactor's threads: with no synchronization context, the pipes' inline callbacks run
    // on the thread that completes them, so each step below has run its turn when it returns.
    private static Task WithoutSynchronizationContext(Func<Task> test) => Task.Run(test);

    // A runner over the test double, parked again after a first line.
    private static async Task<ParkedRunner> ParkedAfterOneLineAsync(
        ProtocolConnectionOptions? options = null, TimeProvider? time = null, Func<PipeConnection, IConnectionProtocol>? protocol = null)
    {
        var connection = new PipeConnection(inlineScheduling: true);
        var transport = new InlineTransport(connection);
        var (listener, runner) = StandaloneRunner.Create(connection, options, time);
        var run = runner.RunAsync(protocol?.Invoke(connection) ?? new UpperCaseProtocol());
        await transport.ReceiveAsync("one\n"u8.ToArray());
        Assert.True(transport.IsParked);
        return new ParkedRunner(connection, transport, listener, runner, run);
    }

    private sealed record ParkedRunner(
        PipeConnection Connection, InlineTransport Transport, ProtocolConnections Listener, ProtocolConnection Runner, Task<ConnectionOutcome> Run)
        : IDisposable
    {
        public void Dispose() => Connection.Dispose();
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    // Upper-cases lines, and asks for the server's shutdown, as Kestrel would on SIGTERM, while it handles the line given.
    private sealed class ClosingOnLine(string line, PipeConnection connection) : IConnectionProtocol
    {
        private readonly UpperCaseProtocol _inner = new();

        public void ConnectionMade(IProtocolTransport transport) => _inner.ConnectionMade(transport);

        public SequencePosition DataReceived(in ReadOnlySequence<byte> data)
        {
            if (Encoding.ASCII.GetString(data).StartsWith(line + "\n", StringComparison.Ordinal))
            {
                connection.RequestClose();
            }

            return _inner.DataReceived(data);
        }

        public void EofReceived(in ReadOnlySequence<byte> unconsumed) => _inner.EofReceived(unconsumed);

        public void ConnectionLost(Exception? exception) => _inner.ConnectionLost(exception);
    }
}
