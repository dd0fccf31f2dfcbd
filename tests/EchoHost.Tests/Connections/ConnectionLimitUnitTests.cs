using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Connections;

public sealed class ConnectionLimitUnitTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Admits_up_to_the_limit_and_again_after_a_release()
    {
        var counter = new ConnectionCounter(2, "Test:MaxConnections=2");

        Assert.True(counter.TryAcquire());
        Assert.True(counter.TryAcquire());
        Assert.False(counter.TryAcquire());
        Assert.Equal(2, counter.Count);

        counter.Release();
        Assert.True(counter.TryAcquire());
    }

    [Fact]
    public void The_count_never_passes_the_limit_even_for_an_instant_under_contention()
    {
        var counter = new ConnectionCounter(4, "Test:MaxConnections=4");
        var overshoots = 0;
        var admitted = 0;

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                if (counter.Count > counter.Limit)
                {
                    Interlocked.Increment(ref overshoots);
                }

                if (counter.TryAcquire())
                {
                    Interlocked.Increment(ref admitted);
                    counter.Release();
                }
            }
        });

        Assert.Equal(0, overshoots);
        Assert.Equal(0, counter.Count);
        Assert.True(admitted > 0);
    }

    [Fact]
    public void Releasing_more_than_was_taken_is_a_bug_and_says_so()
    {
        var counter = new ConnectionCounter(1, "Test:MaxConnections=1");

        Assert.Throws<InvalidOperationException>(counter.Release);
    }

    [Fact]
    public void Reports_the_first_rejection_at_once_then_at_most_once_per_interval_with_the_count()
    {
        var report = new RejectionReport(_time);

        Assert.Equal(1, report.Count());

        long reported = 0;
        for (var i = 0; i < 50; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            reported += report.Count();
        }

        // 5 s later: nothing reported yet.
        Assert.Equal(0, reported);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(51, report.Count());
    }
}
