using HdrHistogram;

namespace EchoHost.Client.Bench;

/// <summary>Latencies in microseconds.</summary>
public sealed record LatencySummary(double Mean, long P50, long P90, long P99, long P999, long Max)
{
    public static LatencySummary From(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new(
            Math.Round(histogram.GetMean(), 1),
            histogram.GetValueAtPercentile(50),
            histogram.GetValueAtPercentile(90),
            histogram.GetValueAtPercentile(99),
            histogram.GetValueAtPercentile(99.9),
            histogram.GetMaxValue());
    }
}

/// <param name="MegabytesPerSecond">Echoed message bytes (prefix excluded) per second, in 10^6 bytes.</param>
/// <param name="Latency">Per request (pingpong; from when it was due, with --rate) or per connection (churn); none for stream and idle.</param>
/// <param name="Engine">What drove the load: "epoll" (one event loop per --threads) or "tasks" (a task per connection: TLS, stream, churn, idle).</param>
/// <param name="MismatchExplanation">Why the first mismatched reply did not match, in plain words.</param>
/// <param name="Idle">Idle mode: the connections held and, with --server-pid, the server's memory.</param>
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
    string? LastError,
    string Engine = "tasks",
    int Threads = 1,
    int Pipeline = 1,
    long? TargetRate = null,
    double WarmupSeconds = 0,
    string? MismatchExplanation = null,
    IdleResult? Idle = null)
{
    public bool Succeeded => (Requests > 0 || Idle is { Held: > 0 }) && Mismatches == 0 && Errors == 0;

    /// <summary>Every latency recorded, for <c>--hdr-out</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public LongHistogram? Histogram { get; init; }
}

/// <param name="Held">Connections open at the end of the hold.</param>
/// <param name="ServerRssBefore">The server's resident memory before connecting, in bytes (with --server-pid).</param>
/// <param name="ServerRssAfter">The same, with every connection open and settled.</param>
/// <param name="BytesPerConnection">The growth divided by the connections held.</param>
public sealed record IdleResult(int Held, long? ServerRssBefore, long? ServerRssAfter, double? BytesPerConnection);
