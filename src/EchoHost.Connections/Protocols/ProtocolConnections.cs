using EchoHost.Connections.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Protocols;

/// <summary>
/// The runners of one listener: what they share (options, clock, metrics, log), and a heartbeat once a second on that
/// clock that checks their timeouts and passes on Kestrel's requests to close. An idle connection holds two links here
/// rather than a heartbeat list and a close-request registration of its own with Kestrel, as Kestrel's own heartbeat
/// walks its HTTP connections; a connection registers for Kestrel's request only once the host starts to stop.
/// </summary>
public sealed class ProtocolConnections
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    // Connections a heartbeat checks per hold of the lock: starting and ending connections, which take it too, wait for
    // one such stretch of the walk at most, however many connections the listener has.
    private const int HeartbeatStretch = 256;

    private readonly Lock _gate = new();
    private ProtocolConnection? _first;
    private ITimer? _heartbeat;
    private bool _walking;
    private ProtocolConnection? _walkNext;
    private bool _closeRequestsHeardAtOnce;

    public ProtocolConnections(ProtocolConnectionOptions options, TimeProvider time, ConnectionMetrics? metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options;
        Time = time;
        Metrics = metrics;
        Logger = logger;
        IdleTimeoutTicks = ToTicks(options.IdleTimeout, time);
        WriteTimeoutTicks = ToTicks(options.WriteTimeout, time);
    }

    internal ProtocolConnectionOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ConnectionMetrics? Metrics { get; }

    internal ILogger Logger { get; }

    internal long IdleTimeoutTicks { get; }

    internal long WriteTimeoutTicks { get; }

    /// <summary>
    /// From now on every connection, running or yet to start, hears Kestrel's request to close the moment it is made
    /// rather than on the next heartbeat. The host calls this as it starts to stop, before Kestrel asks, so that
    /// shutdown waits on no heartbeat.
    /// </summary>
    public void HearCloseRequestsAtOnce()
    {
        List<ProtocolConnection> running = [];
        lock (_gate)
        {
            _closeRequestsHeardAtOnce = true;
            for (var connection = _first; connection is not null; connection = connection.NextInListener)
            {
                running.Add(connection);
            }
        }

        // Outside the lock: a request made already is heard right here, and may end its connection, which takes it out
        // of the list.
        foreach (var connection in running)
        {
            connection.HearCloseRequest();
        }
    }

    /// <summary>Takes a starting connection in; true when it is to hear Kestrel's request to close at once.</summary>
    internal bool Add(ProtocolConnection connection)
    {
        lock (_gate)
        {
            connection.NextInListener = _first;
            if (_first is not null)
            {
                _first.PreviousInListener = connection;
            }

            _first = connection;

            // Without the first connection's context (its log scope), which the timer would otherwise keep.
            if (_heartbeat is null)
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _heartbeat = Time.CreateTimer(static state => ((ProtocolConnections)state!).Heartbeat(), this, HeartbeatInterval, HeartbeatInterval);
                }
            }

            return _closeRequestsHeardAtOnce;
        }
    }

    /// <summary>Lets an ended connection go; the heartbeat stops with the last one.</summary>
    internal void Remove(ProtocolConnection connection)
    {
        lock (_gate)
        {
            if (connection.PreviousInListener is { } previous)
            {
                previous.NextInListener = connection.NextInListener;
            }
            else if (_first == connection)
            {
                _first = connection.NextInListener;
            }
            else
            {
                return;
            }

            if (_walkNext == connection)
            {
                _walkNext = connection.NextInListener;
            }

            if (connection.NextInListener is { } next)
            {
                next.PreviousInListener = connection.PreviousInListener;
            }

            (connection.PreviousInListener, connection.NextInListener) = (null, null);
            if (_first is null)
            {
                _heartbeat?.Dispose();
                _heartbeat = null;
            }
        }
    }

    // Each connection's check only decides, and queues any closing to the thread pool. The walk goes from the newest
    // connection to the oldest in stretches, and one that ends meanwhile moves the walk past it (Remove); one that
    // starts meanwhile waits for the next heartbeat. A walk still under way when the next heartbeat comes finishes alone.
    private void Heartbeat()
    {
        lock (_gate)
        {
            if (_walking)
            {
                return;
            }

            (_walking, _walkNext) = (true, _first);
        }

        while (true)
        {
            lock (_gate)
            {
                for (var checkedNow = 0; checkedNow < HeartbeatStretch && _walkNext is { } connection; checkedNow++)
                {
                    _walkNext = connection.NextInListener;
                    connection.OnHeartbeat();
                }

                if (_walkNext is null)
                {
                    _walking = false;
                    return;
                }
            }
        }
    }

    private static long ToTicks(TimeSpan timeout, TimeProvider time) => (long)(timeout.TotalSeconds * time.TimestampFrequency);
}
