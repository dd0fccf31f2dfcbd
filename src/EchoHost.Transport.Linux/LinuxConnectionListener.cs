using System.Net;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// Accepts on a listening socket and hands each connection to the next reactor. It takes connections from the
/// backlog with accept4, so that accepting makes nothing but the connection (<see cref="AcceptedSocket"/>), and
/// when the backlog is empty waits for one of the reactors, which watches the socket, to see the next arrive
/// (<see cref="ListenerReadiness"/>). Unlike Kestrel's socket transport, which retries a failed accept at once, a
/// shortage of descriptors or kernel memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) is waited out
/// (<see cref="AcceptBackoff"/>), and so is a reactor that cannot take one more socket (ENOSPC: the user's epoll
/// watches are spent); each is logged at most once per <see cref="ReportInterval"/> with a count, so the loop
/// neither spins nor floods the log.
/// </summary>
internal sealed partial class LinuxConnectionListener(
    ListenerReadiness readiness, IReactor watcher, IReactor[] reactors, TimeProvider time, ILogger logger) : IConnectionListener
{
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    // Accepts in a row before the watching reactor serves its connections again: the accept loop runs on its thread,
    // and a full backlog would otherwise hold their replies for as long as taking all of it takes.
    private const int AcceptBatch = 16;

    private const int OutOfMemory = 12;
    private const int BadDescriptor = 9;
    private const int InvalidArgument = 22;
    private const int TooManyOpenFilesInSystem = 23;
    private const int TooManyOpenFiles = 24;
    private const int NoBufferSpace = 105;

    private readonly LocalEndPoints _locals = new();
    private readonly Lock _gate = new();
    private Task? _unbound;
    private int _acceptedSinceWait;
    private long _failuresSinceReport;
    private long _nextReport;
    private int _next;

    public EndPoint EndPoint { get; } = readiness.Socket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var backoff = default(AcceptBackoff);
        while (true)
        {
            // Unbound: the socket stays open until its reactor lets go of it, but no connection is taken from it.
            if (readiness.IsStopped)
            {
                return null;
            }

            int taken;
            AcceptedSocket socket;
            try
            {
                if (_acceptedSinceWait == AcceptBatch)
                {
                    _acceptedSinceWait = 0;
                    var yielded = readiness.YieldAsync(cancellationToken);
                    watcher.Requeue(readiness);
                    if (!await yielded)
                    {
                        return null;
                    }
                }

                taken = AcceptedSocket.Accept(readiness.Socket.SafeHandle, _locals, out socket);
                if (taken == -LinuxCalls.WouldBlock)
                {
                    _acceptedSinceWait = 0;
                    if (!await readiness.WaitAsync(cancellationToken))
                    {
                        return null;
                    }

                    continue;
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException)
            {
                return null;
            }

            if (taken is -TooManyOpenFiles or -TooManyOpenFilesInSystem or -NoBufferSpace or -OutOfMemory)
            {
                ReportFailure(-taken switch
                {
                    TooManyOpenFiles => "EMFILE: the process's descriptor limit is reached",
                    TooManyOpenFilesInSystem => "ENFILE: the system's file table is full",
                    NoBufferSpace => "ENOBUFS",
                    _ => "ENOMEM",
                });
                await backoff.WaitAsync(time, cancellationToken);
                continue;
            }

            if (taken is -BadDescriptor or -InvalidArgument)
            {
                // The listening socket was closed (unbound).
                return null;
            }

            if (taken != 0)
            {
                // Reset while it waited in the backlog, or before it was set up: take the next one.
                continue;
            }

            var reactor = reactors[(uint)Interlocked.Increment(ref _next) % reactors.Length];
            var connection = reactor.Connect(socket);
            var started = connection.Start();
            if (started == 0)
            {
                _acceptedSinceWait++;
                return connection;
            }

            await connection.DisposeAsync();
            ReportFailure($"the reactor refused the connection (errno {-started})");
            await backoff.WaitAsync(time, cancellationToken);
        }
    }

    /// <summary>The accept under way ends with null; the socket closes once its reactor no longer watches it.</summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return new ValueTask(_unbound ??= UnbindOnceAsync());
        }
    }

    public ValueTask DisposeAsync() => UnbindAsync();

    private async Task UnbindOnceAsync()
    {
        readiness.Stop();
        await watcher.UnwatchAsync(readiness);
        readiness.Socket.Dispose();
    }

    private void ReportFailure(string reason)
    {
        var failures = Interlocked.Increment(ref _failuresSinceReport);
        var now = time.GetTimestamp();
        if (now < Volatile.Read(ref _nextReport))
        {
            return;
        }

        Volatile.Write(ref _nextReport, now + (long)(ReportInterval.TotalSeconds * time.TimestampFrequency));
        Interlocked.Add(ref _failuresSinceReport, -failures);
        AcceptFailing(logger, failures, reason, ReportInterval.TotalSeconds);
    }

    [LoggerMessage(
        EventId = 61,
        Level = LogLevel.Warning,
        Message = "Accepting failed {Failures} time(s) for want of descriptors, memory or epoll watches ({Reason}); waiting up to 1 s between tries (reported at most once per {IntervalSeconds} s)")]
    private static partial void AcceptFailing(ILogger logger, long failures, string reason, double intervalSeconds);
}
