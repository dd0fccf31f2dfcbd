using EchoHost.Connections.Limits;
using EchoHost.Transport.Linux;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport;

/// <summary>
/// Keeps one listener's open connections (admitted, or being turned away) within its share of the
/// <see cref="DescriptorBudget"/>: it does not accept while the share is spent, so a flood of clients on one port
/// cannot take the descriptors the runtime and the other port need. That matters because Kestrel's accept loop retries a
/// failed accept (EMFILE) at once, spinning, and the runtime aborts when it cannot open a file. For the same
/// reason it does not accept while the system's file table is nearly full (ENFILE: other processes took the
/// handles). Waiting backs off (<see cref="AcceptBackoff"/>) and is reported at most once per 10 s with a count.
/// A listener with an <paramref name="eviction"/> does not wait while it has a connection between requests: it
/// accepts, then closes the one that waited longest.
/// </summary>
public sealed partial class AcceptGate(
    string listener, int capacity, SystemFileTable files, TimeProvider time, ILogger<AcceptGate> logger, ConnectionEviction? eviction = null)
{
    private readonly RejectionReport _pauses = new(time);
    private readonly RejectionReport _evictions = new(time);
    private readonly RejectionReport _systemPauses = new(time);
    private int _open;

    public int Capacity { get; } = capacity;

    private int Open => Volatile.Read(ref _open);

    /// <summary>Waits until one more connection fits.</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        var backoff = default(AcceptBackoff);
        while (true)
        {
            if (Open >= Capacity && !CanMakeRoom)
            {
                ReportPause();
            }
            else if (files.IsNearlyFull())
            {
                ReportSystemPause();
            }
            else
            {
                return;
            }

            await backoff.WaitAsync(time, cancellationToken);
        }
    }

    /// <summary>Counts an accepted connection and, over the capacity, evicts one that waited longer.</summary>
    public void Opened(ConnectionContext connection)
    {
        if (Interlocked.Increment(ref _open) > Capacity && eviction?.TryEvictOne() == true)
        {
            ReportEviction();
        }

        eviction?.Track(connection);
    }

    /// <summary>Gives the slot of <paramref name="connection"/> back once its socket is closed.</summary>
    public void Closed(ConnectionContext connection)
    {
        eviction?.Closed(connection);
        Interlocked.Decrement(ref _open);
    }

    private bool CanMakeRoom => eviction is not null && Open < Capacity + ConnectionEviction.ClosingLimit && eviction.CanMakeRoom;

    private void ReportEviction()
    {
        var evictions = _evictions.Count();
        if (evictions > 0)
        {
            Evicted(logger, listener, Capacity, evictions, RejectionReport.Interval.TotalSeconds);
        }
    }

    private void ReportPause()
    {
        var pauses = _pauses.Count();
        if (pauses > 0)
        {
            Paused(logger, listener, pauses, Capacity, RejectionReport.Interval.TotalSeconds);
        }
    }

    private void ReportSystemPause()
    {
        var pauses = _systemPauses.Count();
        if (pauses > 0)
        {
            SystemPaused(logger, listener, pauses, RejectionReport.Interval.TotalSeconds);
        }
    }

    [LoggerMessage(
        EventId = 42,
        Level = LogLevel.Warning,
        Message = "{Listener} listener full ({Capacity} connections): closed {Evictions} connection(s) with no request in progress, longest-waiting first, to accept new ones (reported at most once per {IntervalSeconds} s)")]
    private static partial void Evicted(ILogger logger, string listener, int capacity, long evictions, double intervalSeconds);

    [LoggerMessage(
        EventId = 41,
        Level = LogLevel.Warning,
        Message = "{Listener} listener paused accepting {Pauses} time(s): the system's file table is full (ENFILE), other processes hold nearly every handle (reported at most once per {IntervalSeconds} s)")]
    private static partial void SystemPaused(ILogger logger, string listener, long pauses, double intervalSeconds);

    [LoggerMessage(
        EventId = 40,
        Level = LogLevel.Warning,
        Message = "{Listener} listener paused accepting {Pauses} time(s): {Capacity} connection(s) hold every descriptor the file-descriptor limit leaves it (reported at most once per {IntervalSeconds} s)")]
    private static partial void Paused(ILogger logger, string listener, long pauses, int capacity, double intervalSeconds);
}
