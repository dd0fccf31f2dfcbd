using EchoHost.Protocol.Connections;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Protocol;

public sealed class EchoConnectionsTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Admits_up_to_the_limit_and_again_after_a_close()
    {
        var connections = new EchoConnections(maxConnections: 2, _time);

        Assert.True(connections.TryOpen(out _));
        Assert.True(connections.TryOpen(out _));
        Assert.False(connections.TryOpen(out _));
        Assert.Equal(2, connections.Active);

        connections.Close(ConnectionEndReason.PeerClosed);
        Assert.True(connections.TryOpen(out _));
    }

    [Fact]
    public void Reports_the_first_rejection_at_once_then_at_most_once_per_interval_with_the_count()
    {
        var connections = new EchoConnections(maxConnections: 1, _time);
        connections.TryOpen(out _);

        Assert.False(connections.TryOpen(out var first));
        Assert.Equal(1, first);

        long reported = 0;
        for (var i = 0; i < 50; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            connections.TryOpen(out var report);
            reported += report;
        }

        // 5 s later: nothing reported yet.
        Assert.Equal(0, reported);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(connections.TryOpen(out var second));
        Assert.Equal(51, second);
    }

    [Fact]
    public void Counts_connections_closed_by_shutdown()
    {
        var connections = new EchoConnections(maxConnections: 5, _time);
        connections.TryOpen(out _);
        connections.TryOpen(out _);

        connections.Close(ConnectionEndReason.ServerShutdown);
        connections.Close(ConnectionEndReason.Failed);

        Assert.Equal(1, connections.ClosedByShutdown);
        Assert.Equal(0, connections.Active);
    }
}
