using EchoHost.Shared;
using System.Collections.Concurrent;

namespace EchoHost.Transport.Linux;

/// <summary>
/// One thread and one epoll instance serving many connections: it waits for readiness and tells each connection
/// it can read or write. The connection does its recv and send right there, and with inline pipe scheduling the
/// protocol runs on this thread too, so a request costs one recv and one send and no thread hop. Work that must
/// happen on this thread (a connection's final close) is queued and the loop woken through an eventfd.
/// </summary>
internal sealed partial class EpollReactor : IDisposable
{
    private const int MaxEvents = 512;
    private const ulong WakeKey = 0;
    private const int NonBlocking = 0x800;
    private readonly ConcurrentDictionary<ulong, EpollConnection> _connections = new();
    private readonly ConcurrentQueue<EpollConnection> _closing = new();
    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private volatile bool _stopping;

    public EpollReactor(int index, ILogger logger)
    {
        _logger = logger;
        _epoll = LinuxCalls.EpollCreate(0);
        _wake = LinuxCalls.EventFd(0, NonBlocking);
        if (_epoll < 0 || _wake < 0)
        {
            throw new IOException($"epoll_create1 or eventfd failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }

        var interest = new LinuxCalls.EpollEvent { Events = LinuxCalls.In, Data = WakeKey };
        LinuxCalls.EpollControl(_epoll, LinuxCalls.Add, _wake, ref interest);
        _thread = new Thread(Run) { IsBackground = true, Name = $"EchoHost epoll {index}" };
        _thread.Start();
    }

    public void Add(EpollConnection connection, uint interest)
    {
        _connections[connection.Key] = connection;
        Control(LinuxCalls.Add, connection, interest);
    }

    public void Change(EpollConnection connection, uint interest) => Control(LinuxCalls.Modify, connection, interest);

    /// <summary>Closes the connection on this reactor's thread, after any event being handled for it.</summary>
    public void Close(EpollConnection connection)
    {
        _closing.Enqueue(connection);
        LinuxCalls.Signal(_wake);
    }

    public void Dispose()
    {
        _stopping = true;
        LinuxCalls.Signal(_wake);
        _thread.Join();
        LinuxCalls.Close(_wake);
        LinuxCalls.Close(_epoll);
    }

    private void Control(int operation, EpollConnection connection, uint interest)
    {
        var change = new LinuxCalls.EpollEvent { Events = interest, Data = connection.Key };
        LinuxCalls.EpollControl(_epoll, operation, connection.Descriptor, ref change);
    }

    private unsafe void Run()
    {
        var events = stackalloc LinuxCalls.EpollEvent[MaxEvents];
        while (!_stopping)
        {
            var ready = LinuxCalls.EpollWait(_epoll, events, MaxEvents, -1);
            for (var i = 0; i < ready; i++)
            {
                if (events[i].Data == WakeKey)
                {
                    LinuxCalls.Drain(_wake);
                }
                else if (_connections.TryGetValue(events[i].Data, out var connection))
                {
                    Serve(connection, events[i].Events);
                }
            }

            while (_closing.TryDequeue(out var closing))
            {
                var none = default(LinuxCalls.EpollEvent);
                LinuxCalls.EpollControl(_epoll, LinuxCalls.Delete, closing.Descriptor, ref none);
                _connections.TryRemove(closing.Key, out _);
                closing.Closed();
            }
        }
    }

    // A fault in one connection is that connection's end, never the loop's.
    private void Serve(EpollConnection connection, uint events)
    {
        try
        {
            connection.OnReady(events);
        }
        catch (Exception ex)
        {
            TransportFault(_logger, ex);
            connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("The transport failed.", ex));
        }
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Error, Message = "The epoll transport failed serving a connection; aborting it")]
    private static partial void TransportFault(ILogger logger, Exception exception);
}
