using EchoHost.Transport.Linux;
using EchoHost.Tests.Support;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Hardening;

/// <summary>
/// The accept gate on a fake clock: it waits while its share is spent or the system's file table is full, unless it may
/// evict a connection that has no request in progress.
/// </summary>
public sealed class AcceptGateTests
{
    private readonly FakeTimeProvider _time = new();
    private string _fileNr = "3000\t0\t9223372036854775807";

    private AcceptGate Gate(int capacity, ConnectionEviction? eviction = null) =>
        new("Echo", capacity, new SystemFileTable(() => _fileNr, _time), _time, NullLogger<AcceptGate>.Instance, eviction);

    [Fact]
    public async Task It_waits_while_its_share_is_spent_and_goes_on_when_a_connection_closes()
    {
        var gate = Gate(1);
        var connection = new DefaultConnectionContext();
        gate.Opened(connection);

        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        gate.Closed(connection);
        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_full_gate_with_eviction_accepts_at_once_and_closes_the_connection_that_waited_longest_for_a_request()
    {
        var eviction = new ConnectionEviction();
        var gate = Gate(2, eviction);
        var (oldest, newer) = (new DefaultConnectionContext(), new DefaultConnectionContext());
        gate.Opened(oldest);
        gate.Opened(newer);

        await gate.WaitForRoomAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var arriving = new DefaultConnectionContext();
        gate.Opened(arriving);

        await Eventually.TrueAsync(() => oldest.ConnectionClosed.IsCancellationRequested);
        Assert.False(newer.ConnectionClosed.IsCancellationRequested);
        Assert.False(arriving.ConnectionClosed.IsCancellationRequested);
        Assert.Equal(1, eviction.Evicted);
    }

    [Fact]
    public async Task A_connection_with_a_request_in_progress_is_never_evicted_and_goes_to_the_back_of_the_line_once_it_ends()
    {
        var eviction = new ConnectionEviction();
        var gate = Gate(2, eviction);
        var (first, second) = (new DefaultConnectionContext(), new DefaultConnectionContext());
        gate.Opened(first);
        gate.Opened(second);
        first.Features.GetRequiredFeature<EvictableConnection>().RequestStarted();
        second.Features.GetRequiredFeature<EvictableConnection>().RequestStarted();

        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        first.Features.GetRequiredFeature<EvictableConnection>().RequestEnded();
        second.Features.GetRequiredFeature<EvictableConnection>().RequestEnded();
        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        gate.Opened(new DefaultConnectionContext());

        await Eventually.TrueAsync(() => first.ConnectionClosed.IsCancellationRequested);
        Assert.False(second.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task Evicted_connections_still_closing_are_bounded_and_their_slots_come_back_when_they_close()
    {
        var eviction = new ConnectionEviction();
        var gate = Gate(1, eviction);
        var open = new List<DefaultConnectionContext>();
        for (var i = 0; i <= ConnectionEviction.ClosingLimit; i++)
        {
            await gate.WaitForRoomAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            open.Add(new DefaultConnectionContext());
            gate.Opened(open[^1]);
        }

        Assert.Equal(ConnectionEviction.ClosingLimit, eviction.Evicted);
        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        foreach (var evicted in open.Take(ConnectionEviction.ClosingLimit))
        {
            gate.Closed(evicted);
        }

        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task It_waits_while_the_system_file_table_is_nearly_full_and_goes_on_when_handles_come_back()
    {
        var gate = Gate(100);
        _fileNr = $"{1_000_000 - SystemFileTable.Headroom}\t0\t1000000";

        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        _fileNr = "900000\t0\t1000000";
        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not numbers")]
    public void An_unreadable_file_table_is_never_full(string? content)
    {
        Assert.False(new SystemFileTable(() => content, _time).IsNearlyFull());
    }
}
