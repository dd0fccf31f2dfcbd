using System.Numerics;

namespace EchoHost.Client.Bench;

/// <summary>
/// Latencies in microseconds, HDR-style: exact below 128 µs, then 64 sub-buckets per power of two, so every
/// recorded value is known within 1/64 (1.6%) in fixed memory whatever the range. Not thread-safe: one per
/// connection, merged at the end.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearBuckets = 128;
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxExponent = 40;

    private readonly long[] _counts = new long[LinearBuckets + ((MaxExponent - 6) * SubBuckets)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long microseconds)
    {
        var value = Math.Clamp(microseconds, 0, (1L << MaxExponent) - 1);
        _counts[IndexOf(value)]++;
        Count++;
        Sum += value;
        Max = Math.Max(Max, value);
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at or below which <paramref name="percentile"/> percent of the recorded values fall.</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var target = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(HighestValueOf(i), Max);
            }
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearBuckets)
        {
            return (int)value;
        }

        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var subBucket = (int)(value >> (exponent - SubBucketBits)) & (SubBuckets - 1);
        return LinearBuckets + ((exponent - 7) * SubBuckets) + subBucket;
    }

    private static long HighestValueOf(int index)
    {
        if (index < LinearBuckets)
        {
            return index;
        }

        var exponent = 7 + ((index - LinearBuckets) / SubBuckets);
        var subBucket = (index - LinearBuckets) % SubBuckets;
        var width = 1L << (exponent - SubBucketBits);
        return ((SubBuckets + subBucket) * width) + width - 1;
    }
}
