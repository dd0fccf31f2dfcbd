using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport.Linux;

/// <summary>
/// <c>Transport:Kind = Linux</c>: EchoHost's own Kestrel transport for Linux. Kestrel binds through it as through
/// its socket transport and gets ordinary <see cref="ConnectionContext"/>s, so the connection middleware and the
/// protocol do not know the difference. The reactors start with the first bind and stop with the host.
/// </summary>
internal sealed class EpollTransportFactory(EpollTransportOptions options, TimeProvider time, ILoggerFactory loggers) : IConnectionListenerFactory, IDisposable
{
    private const int Backlog = 512;
    private readonly Lock _gate = new();
    private EpollReactor[]? _reactors;

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
        return ValueTask.FromResult<IConnectionListener>(new EpollConnectionListener(socket, Reactors(logger), options, time, logger));
    }

    public void Dispose()
    {
        foreach (var reactor in _reactors ?? [])
        {
            reactor.Dispose();
        }
    }

    private EpollReactor[] Reactors(ILogger logger)
    {
        lock (_gate)
        {
            return _reactors ??= Enumerable.Range(0, options.Threads).Select(i => new EpollReactor(i, logger)).ToArray();
        }
    }
}
