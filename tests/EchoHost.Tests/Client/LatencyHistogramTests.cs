using EchoHost.Client.Bench;

namespace EchoHost.Tests.Client;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Small_values_are_exact()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 100; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(50, histogram.Percentile(50));
        Assert.Equal(99, histogram.Percentile(99));
        Assert.Equal(100, histogram.Percentile(100));
        Assert.Equal(50.5, histogram.Mean);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(123_456)]
    [InlineData(9_876_543_210)]
    public void Large_values_are_within_one_sixty_fourth(long value)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(value);
        histogram.Record(value * 2);

        var p50 = histogram.Percentile(50);
        Assert.InRange(p50, value, value + (value / 64) + 1);
        Assert.Equal(value * 2, histogram.Max);
    }

    [Fact]
    public void Percentiles_of_a_skewed_distribution_and_merging()
    {
        var fast = new LatencyHistogram();
        var slow = new LatencyHistogram();
        for (var i = 0; i < 990; i++)
        {
            fast.Record(100);
        }

        for (var i = 0; i < 10; i++)
        {
            slow.Record(50_000);
        }

        fast.Add(slow);

        Assert.Equal(1000, fast.Count);
        Assert.Equal(100, fast.Percentile(99));
        Assert.InRange(fast.Percentile(99.9), 50_000, 50_000 + 50_000 / 64);
        Assert.Equal(50_000, fast.Max);
    }

    [Fact]
    public void An_empty_histogram_reports_zero()
    {
        Assert.Equal(0, new LatencyHistogram().Percentile(99));
    }
}
