using System.Diagnostics.Metrics;
using EchoHost.Connections.Protocols;

namespace EchoHost.Connections.Diagnostics;

/// <summary>
/// One listener's connection instruments, named <c>{prefix}.connections.opened</c> and so on so that
/// OpenTelemetry's Prometheus naming turns them into <c>{prefix}_connections_opened_total</c>. The counts are
/// plain interlocked fields, read by observable instruments when a scraper collects: the echo path pays an atomic
/// add per count, on a cache line of its thread's (<see cref="TrafficCounts"/>), and nothing else. Every series
/// (each reason included) is exported from the first scrape on, at zero, so rates and alerts work before the first
/// event.
/// </summary>
public sealed class ConnectionMetrics
{
    private const string ReasonTag = "reason";

    private static readonly string[] EndReasonNames = Enum.GetValues<ConnectionEndReason>().Select(ToSnakeCase).ToArray();

    private readonly Histogram<double> _duration;
    private readonly long[] _closedByReason = new long[EndReasonNames.Length];
    private readonly long[] _rejectedByReason = new long[RejectionReasons.All.Length];
    private readonly TrafficCounts _traffic = new();
    private long _opened;
    private long _active;

    public ConnectionMetrics(Meter meter, string prefix)
    {
        ArgumentNullException.ThrowIfNull(meter);
        meter.CreateObservableCounter($"{prefix}.connections.opened", () => Volatile.Read(ref _opened), "{connection}", "Connections admitted to the protocol.");
        meter.CreateObservableUpDownCounter($"{prefix}.connections.active", () => Volatile.Read(ref _active), "{connection}", "Connections open now.");
        meter.CreateObservableCounter($"{prefix}.connections.closed", () => ByReason(_closedByReason, EndReasonNames), "{connection}", "Admitted connections that ended, by reason.");
        meter.CreateObservableCounter($"{prefix}.connections.rejected", () => ByReason(_rejectedByReason, RejectionReasons.All), "{connection}", "Connections turned away before the protocol, by reason.");
        meter.CreateObservableCounter($"{prefix}.messages.received", () => _traffic.Messages, "{message}", "Framed messages received.");
        meter.CreateObservableCounter($"{prefix}.received", () => _traffic.Received, "By", "Bytes read from clients.");
        meter.CreateObservableCounter($"{prefix}.sent", () => _traffic.Sent, "By", "Bytes written to clients.");
        _duration = meter.CreateHistogram<double>(
            $"{prefix}.connection.duration",
            "s",
            "Lifetime of each admitted connection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600] });
    }

    /// <summary>Connections open now, as counted by <see cref="Opened"/> and <see cref="Closed"/>.</summary>
    public int Active => (int)Volatile.Read(ref _active);

    /// <summary>How many admitted connections ended for <paramref name="reason"/> since start.</summary>
    public int ClosedBy(ConnectionEndReason reason) => (int)Volatile.Read(ref _closedByReason[(int)reason]);

    public void Opened()
    {
        Interlocked.Increment(ref _opened);
        Interlocked.Increment(ref _active);
    }

    public void Closed(ConnectionEndReason reason, TimeSpan duration)
    {
        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _closedByReason[(int)reason]);
        _duration.Record(duration.TotalSeconds);
    }

    /// <param name="reason">One of <see cref="RejectionReasons.All"/>.</param>
    public void Rejected(string reason) => Interlocked.Increment(ref _rejectedByReason[Array.IndexOf(RejectionReasons.All, reason)]);

    public void MessagesReceived(int count)
    {
        if (count > 0)
        {
            _traffic.AddMessages(count);
        }
    }

    public void Transferred(long received, long sent)
    {
        if (received > 0 || sent > 0)
        {
            _traffic.AddTransferred(received, sent);
        }
    }

    private static IEnumerable<Measurement<long>> ByReason(long[] counts, string[] reasons)
    {
        for (var i = 0; i < reasons.Length; i++)
        {
            yield return new Measurement<long>(Volatile.Read(ref counts[i]), new KeyValuePair<string, object?>(ReasonTag, reasons[i]));
        }
    }

    private static string ToSnakeCase(ConnectionEndReason reason) => string.Concat(
        reason.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
