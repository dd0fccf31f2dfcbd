using System.Collections.Concurrent;
using System.Diagnostics;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// One thread and one epoll instance serving many connections: it waits for readiness and tells each connection
/// it can read or write. The connection does its recv and send right there, and with inline pipe scheduling the
/// protocol runs on this thread too, so a request costs one recv and one send and no thread hop. Work that must
/// happen on this thread (resuming a paused read, an abort's end of input, the final close) is queued and the loop
/// woken through an eventfd. Stopping aborts the connections still open and waits for them to close, up to
/// <see cref="IReactor.StopTimeout"/>; whatever is left then is closed by the reactor itself.
/// </summary>
internal sealed partial class EpollReactor : IReactor
{
    private const int MaxEvents = 512;
    private const ulong WakeKey = 0;
    private const int NonBlocking = 0x800;
    private const int StoppingWaitMilliseconds = 50;
    private const int BadDescriptor = 9;
    private const int InlineBufferSize = 64 * 1024;
    private readonly ConnectionTable<EpollConnection> _connections = new();
    private readonly WatchedListeners _listeners = new();
    private readonly ConcurrentQueue<(EpollConnection Connection, ReactorWork Work)> _work = new();
    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly int _threadId;
    private readonly LinuxTransportOptions _options;
    private volatile bool _stopping;
    private volatile bool _stopped;

    public EpollReactor(int index, LinuxTransportOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        Time = time;
        Logger = logger;
        InlineOutput = new InlineOutput(InlineBufferSize, InlineInput);
        _epoll = LinuxCalls.EpollCreate(0);
        _wake = LinuxCalls.EventFd(0, NonBlocking);
        var wakeInterest = new LinuxCalls.EpollEvent { Events = LinuxCalls.In, Data = WakeKey };
        if (_epoll < 0 || _wake < 0 || LinuxCalls.EpollControl(_epoll, LinuxCalls.Add, _wake, ref wakeInterest) != 0)
        {
            var error = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            CloseDescriptors();
            throw new IOException($"The Linux transport could not create its epoll instance (errno {error}).");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"EchoHost epoll {index}" };
        _threadId = _thread.ManagedThreadId;
        _thread.Start();
    }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    /// <summary>Where an inline turn's input is received: one turn runs at a time, so one buffer serves them all.</summary>
    public byte[] InlineInput { get; } = GC.AllocateUninitializedArray<byte>(InlineBufferSize, pinned: true);

    public InlineOutput InlineOutput { get; }

    public bool IsReactorThread => Environment.CurrentManagedThreadId == _threadId;

    public LinuxConnection Connect(AcceptedSocket accepted) => new EpollConnection(accepted, this, _options);

    /// <summary>0, or -errno (ENOSPC: the user's epoll watches are spent).</summary>
    public int Watch(EpollConnection connection, uint interest)
    {
        if (_stopping)
        {
            return -LinuxCalls.ShuttingDown;
        }

        _connections.Add(connection);
        var result = Control(LinuxCalls.Add, connection, interest);
        if (result != 0)
        {
            _connections.Remove(connection.Token);
        }

        return result;
    }

    /// <summary>
    /// Edge-triggered, as the connections are: one event per arrival, and none while the listener, short of
    /// descriptors, leaves connections in the backlog.
    /// </summary>
    public int Watch(ListenerReadiness listener)
    {
        if (_stopping)
        {
            return -LinuxCalls.ShuttingDown;
        }

        _listeners.Add(listener);
        var interest = new LinuxCalls.EpollEvent { Events = LinuxCalls.In | LinuxCalls.EdgeTriggered, Data = listener.Key };
        var result = LinuxCalls.EpollControl(_epoll, LinuxCalls.Add, listener.Socket.SafeHandle, ref interest);
        if (result != 0)
        {
            _listeners.Remove(listener);
        }

        return result;
    }

    /// <summary>The wake makes the next turn come at once, whatever else is ready by then.</summary>
    public void Requeue(ListenerReadiness listener)
    {
        _listeners.Requeue(listener);
        LinuxCalls.Signal(_wake);
    }

    public ValueTask UnwatchAsync(ListenerReadiness listener)
    {
        var none = default(LinuxCalls.EpollEvent);
        LinuxCalls.EpollControl(_epoll, LinuxCalls.Delete, listener.Socket.SafeHandle, ref none);
        _listeners.Remove(listener);
        return default;
    }

    public int Change(EpollConnection connection, uint interest) => Control(LinuxCalls.Modify, connection, interest);

    public void Unwatch(EpollConnection connection) => Control(LinuxCalls.Delete, connection, 0);

    /// <summary>Runs the work on this reactor's thread, after any event being handled for the connection.</summary>
    public void Post(EpollConnection connection, ReactorWork work)
    {
        if (_stopped)
        {
            // Every connection the reactor had is closed already: only a close can still be asked for.
            if (work == ReactorWork.Close)
            {
                connection.Close();
            }

            return;
        }

        _work.Enqueue((connection, work));

        // This thread runs the queue before it waits again: the accept loop, on it, starts its connections here.
        if (!IsReactorThread)
        {
            LinuxCalls.Signal(_wake);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        LinuxCalls.Signal(_wake);

        // The loop bounds itself; the margin is for a protocol still running on its thread.
        if (_thread.Join(IReactor.StopTimeout + IReactor.StopTimeout))
        {
            CloseDescriptors();
        }
        else
        {
            StopTimedOut(Logger, _thread.Name);
        }
    }

    // Edge-triggered: a ready socket is not polled again on every wait until it is drained, as level-triggered does;
    // the connection reads until a receive comes back short instead.
    private int Control(int operation, EpollConnection connection, uint interest)
    {
        var change = new LinuxCalls.EpollEvent { Events = interest | LinuxCalls.EdgeTriggered, Data = connection.Token };
        try
        {
            return LinuxCalls.EpollControl(_epoll, operation, connection.Handle, ref change);
        }
        catch (ObjectDisposedException)
        {
            // The socket is closed already, which also took it out of epoll.
            return -BadDescriptor;
        }
    }

    private unsafe void Run()
    {
        var events = stackalloc LinuxCalls.EpollEvent[MaxEvents];
        long? deadline = null;
        while (true)
        {
            if (_stopping)
            {
                deadline ??= BeginStop();
                if (_connections.IsEmpty || Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }
            }

            var ready = LinuxCalls.EpollWait(_epoll, events, MaxEvents, _stopping ? StoppingWaitMilliseconds : -1);
            for (var i = 0; i < ready; i++)
            {
                if (events[i].Data == WakeKey)
                {
                    LinuxCalls.Drain(_wake);
                }
                else if (WatchedListeners.IsListener(events[i].Data))
                {
                    if (_listeners.TryGet(events[i].Data, out var listener))
                    {
                        listener.Set();
                    }
                }
                else if (_connections.TryGet(events[i].Data, out var connection))
                {
                    Serve(connection, events[i].Events);
                }
            }

            RunQueuedWork();
        }

        _stopped = true;
        _listeners.StopAll();
        RunQueuedWork();
        foreach (var connection in _connections.Snapshot())
        {
            connection.RunPosted(ReactorWork.Close);
        }

        _connections.Clear();
    }

    // Asks every connection to end; the loop then waits for their closes, up to the deadline.
    private long BeginStop()
    {
        foreach (var connection in _connections.Snapshot())
        {
            connection.Abort(new ConnectionAbortedException("The server is stopping."));
        }

        return Stopwatch.GetTimestamp() + (long)(IReactor.StopTimeout.TotalSeconds * Stopwatch.Frequency);
    }

    private void RunQueuedWork()
    {
        _listeners.SetRequeued();
        while (_work.TryDequeue(out var item))
        {
            item.Connection.RunPosted(item.Work);
            if (item.Work == ReactorWork.Close)
            {
                _connections.Remove(item.Connection.Token);
            }
        }
    }

    // A fault in one connection is that connection's end, never the loop's.
    private static void Serve(EpollConnection connection, uint events)
    {
        try
        {
            connection.OnReady(events);
        }
        catch (Exception ex)
        {
            connection.Fail(ex);
        }
    }

    private void CloseDescriptors()
    {
        if (_wake >= 0)
        {
            LinuxCalls.Close(_wake);
        }

        if (_epoll >= 0)
        {
            LinuxCalls.Close(_epoll);
        }
    }

    [LoggerMessage(EventId = 64, Level = LogLevel.Warning, Message = "{Thread} did not stop in time; its epoll descriptors stay open")]
    private static partial void StopTimedOut(ILogger logger, string? thread);
}
