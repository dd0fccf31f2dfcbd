using System.Net;
using System.Net.Sockets;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// <c>Transport:Kind = Linux</c>: EchoHost's own Kestrel transport for Linux. Kestrel binds through it as through
/// its socket transport and gets ordinary <see cref="ConnectionContext"/>s, so the connection middleware and the
/// protocol do not know the difference. The reactors start with the first bind and stop with the host, each
/// after its last connection closed (see <see cref="EpollReactor"/>).
/// </summary>
public sealed class LinuxTransportFactory(LinuxTransportOptions options, TimeProvider time, ILoggerFactory loggers) : IConnectionListenerFactory, IDisposable
{
    /// <summary>Where the transport runs: Linux on x86-64, whose <c>struct epoll_event</c> layout it uses.</summary>
    public static bool IsSupported => LinuxCalls.IsSupported;

    private const int Backlog = 512;
    private readonly Lock _gate = new();
    private IReactor[]? _reactors;
    private int _listeners;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The Linux transport listens on IP addresses only, not on {endpoint}.");
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(ip);
            socket.Listen(Backlog);

            // The listener takes connections with accept4 while the backlog has any, so that call must never wait.
            socket.Blocking = false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var logger = loggers.CreateLogger("EchoHost.Transport.Linux");
        var reactors = Reactors(logger);

        // Each listener is watched by the next reactor, so two ports' accepts run on two threads where there are two.
        var watcher = reactors[(uint)Interlocked.Increment(ref _listeners) % reactors.Length];
        var readiness = new ListenerReadiness(socket);
        var watched = watcher.Watch(readiness);
        if (watched != 0)
        {
            socket.Dispose();
            throw new IOException($"The Linux transport could not watch the socket listening on {endpoint} (errno {-watched}).");
        }

        return ValueTask.FromResult<IConnectionListener>(new LinuxConnectionListener(readiness, watcher, reactors, time, logger));
    }

    public void Dispose()
    {
        IReactor[] reactors;
        lock (_gate)
        {
            reactors = _reactors ?? [];
        }

        // Side by side, so the connections of every reactor get the same time to close.
        Parallel.ForEach(reactors, static reactor => reactor.Dispose());
    }

    private IReactor[] Reactors(ILogger logger)
    {
        lock (_gate)
        {
            return _reactors ??= Enumerable.Range(0, options.Threads).Select(i => options.Engine == LinuxEngine.IoUring
                ? (IReactor)new IoUringReactor(i, options, time, logger)
                : new EpollReactor(i, options, time, logger)).ToArray();
        }
    }
}
