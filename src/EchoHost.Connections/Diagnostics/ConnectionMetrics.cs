using System.Diagnostics.Metrics;
using EchoHost.Connections.Protocols;

namespace EchoHost.Connections.Diagnostics;

/// <summary>
/// One listener's connection instruments, named <c>{prefix}.connections.opened</c> and so on so that
/// OpenTelemetry's Prometheus naming turns them into <c>{prefix}_connections_opened_total</c>. Every method is
/// lock-free and allocation-free; the runner calls <see cref="Transferred"/> once per read, never per byte.
/// </summary>
public sealed class ConnectionMetrics
{
    private const string ReasonTag = "reason";

    private static readonly string[] EndReasonNames = Enum.GetValues<ConnectionEndReason>().Select(ToSnakeCase).ToArray();

    private readonly Counter<long> _opened;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _received;
    private readonly Counter<long> _sent;
    private readonly Histogram<double> _duration;
    private readonly int[] _closedByReason = new int[EndReasonNames.Length];
    private int _activeNow;

    public ConnectionMetrics(Meter meter, string prefix)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _opened = meter.CreateCounter<long>($"{prefix}.connections.opened", "{connection}", "Connections admitted to the protocol.");
        _active = meter.CreateUpDownCounter<long>($"{prefix}.connections.active", "{connection}", "Connections open now.");
        _closed = meter.CreateCounter<long>($"{prefix}.connections.closed", "{connection}", "Admitted connections that ended, by reason.");
        _rejected = meter.CreateCounter<long>($"{prefix}.connections.rejected", "{connection}", "Connections turned away before the protocol, by reason.");
        _messages = meter.CreateCounter<long>($"{prefix}.messages.received", "{message}", "Framed messages received.");
        _received = meter.CreateCounter<long>($"{prefix}.received", "By", "Bytes read from clients.");
        _sent = meter.CreateCounter<long>($"{prefix}.sent", "By", "Bytes written to clients.");
        _duration = meter.CreateHistogram<double>(
            $"{prefix}.connection.duration",
            "s",
            "Lifetime of each admitted connection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600] });
    }

    /// <summary>Connections open now, as counted by <see cref="Opened"/> and <see cref="Closed"/>.</summary>
    public int Active => Volatile.Read(ref _activeNow);

    /// <summary>How many admitted connections ended for <paramref name="reason"/> since start.</summary>
    public int ClosedBy(ConnectionEndReason reason) => Volatile.Read(ref _closedByReason[(int)reason]);

    public void Opened()
    {
        Interlocked.Increment(ref _activeNow);
        _opened.Add(1);
        _active.Add(1);
    }

    public void Closed(ConnectionEndReason reason, TimeSpan duration)
    {
        Interlocked.Decrement(ref _activeNow);
        Interlocked.Increment(ref _closedByReason[(int)reason]);
        _active.Add(-1);
        _closed.Add(1, new KeyValuePair<string, object?>(ReasonTag, EndReasonNames[(int)reason]));
        _duration.Record(duration.TotalSeconds);
    }

    /// <param name="reason">One of the <see cref="RejectionReasons"/>.</param>
    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>(ReasonTag, reason));

    public void MessagesReceived(int count)
    {
        if (count > 0)
        {
            _messages.Add(count);
        }
    }

    public void Transferred(long received, long sent)
    {
        if (received > 0)
        {
            _received.Add(received);
        }

        if (sent > 0)
        {
            _sent.Add(sent);
        }
    }

    private static string ToSnakeCase(ConnectionEndReason reason) => string.Concat(
        reason.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
