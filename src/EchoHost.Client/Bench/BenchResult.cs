namespace EchoHost.Client.Bench;

/// <summary>Latencies in microseconds.</summary>
public sealed record LatencySummary(double Mean, long P50, long P90, long P99, long P999, long Max)
{
    public static LatencySummary From(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new(
            Math.Round(histogram.Mean, 1),
            histogram.Percentile(50),
            histogram.Percentile(90),
            histogram.Percentile(99),
            histogram.Percentile(99.9),
            histogram.Max);
    }
}

/// <param name="MegabytesPerSecond">Echoed message bytes (prefix excluded) per second, in 10^6 bytes.</param>
/// <param name="Latency">Per request (pingpong) or per connection (churn); none for stream.</param>
public sealed record BenchResult(
    string Mode,
    string Server,
    int Connections,
    int MessageBytes,
    int PrefixBytes,
    double Seconds,
    long Requests,
    double RequestsPerSecond,
    double MegabytesPerSecond,
    LatencySummary? Latency,
    long Mismatches,
    long Errors,
    string? LastError)
{
    public bool Succeeded => Requests > 0 && Mismatches == 0 && Errors == 0;
}
