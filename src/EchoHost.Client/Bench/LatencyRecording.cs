using System.Diagnostics;
using HdrHistogram;

namespace EchoHost.Client.Bench;

/// <summary>Latencies in microseconds, in HdrHistogram: 3 significant digits from 1 µs to an hour.</summary>
internal static class LatencyRecording
{
    private const long LongestMicroseconds = 3_600_000_000;

    public static LongHistogram NewHistogram() => new(1, LongestMicroseconds, 3);

    public static void Record(LongHistogram histogram, long stopwatchTicks) =>
        histogram.RecordValue(Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, LongestMicroseconds));
}
