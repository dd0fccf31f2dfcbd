using System.Net;
using System.Net.Sockets;
using EchoHost.Hosting;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport;

/// <summary>
/// Wraps Kestrel's socket transport so that the echo listener accepts through the <see cref="AcceptGate"/>; the
/// health listener is left alone, so probes are accepted whatever the echo clients do. The transport, its
/// pools and its connections stay Kestrel's own.
/// </summary>
public sealed class GatedConnectionListenerFactory(IConnectionListenerFactory inner, AcceptGate gate, Listeners listeners)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    // Kestrel binds the very EndPoint object its ListenOptions holds, which is how the echo listener is told apart
    // even when both listeners ask for port 0.
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = listeners.All.FirstOrDefault(l => ReferenceEquals(l.Options.EndPoint, endpoint));
        IConnectionListener bound;
        try
        {
            bound = await inner.BindAsync(endpoint, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or AddressInUseException)
        {
            throw new BindFailure(listener, endpoint, ex);
        }

        return listener?.Name == Listeners.Echo ? new GatedListener(bound, gate) : bound;
    }

    public bool CanBind(EndPoint endpoint) => inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class GatedListener(IConnectionListener inner, AcceptGate gate) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            await gate.WaitForRoomAsync(cancellationToken);
            var connection = await inner.AcceptAsync(cancellationToken);
            if (connection is not null)
            {
                gate.Opened();
                connection.ConnectionClosed.Register(static state => ((AcceptGate)state!).Closed(), gate);
            }

            return connection;
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
