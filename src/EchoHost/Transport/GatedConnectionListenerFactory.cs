using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using EchoHost.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Transport;

/// <summary>
/// Binds each listener and makes it accept through an <see cref="AcceptGate"/> of its own, sized by its
/// <see cref="Listener.AcceptCapacity"/> (its share of the <see cref="DescriptorBudget"/>): echo clients cannot take
/// the descriptors the health port and the runtime need, and a flood of slow HTTP clients on the health port cannot
/// take the echo clients' either. Protocol listeners run on <paramref name="protocolTransport"/> (the large-block pool,
/// and <c>Transport:Kind</c>); HTTP listeners on <paramref name="httpTransport"/>, whose pool is the runtime's shared
/// one, so probes never hold echo blocks.
/// </summary>
public sealed class GatedConnectionListenerFactory(
    IConnectionListenerFactory protocolTransport,
    IConnectionListenerFactory httpTransport,
    SystemFileTable files,
    Listeners listeners,
    TimeProvider time,
    ILogger<AcceptGate> logger)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    // Kestrel binds the very EndPoint object its ListenOptions holds, which is how the listeners are told apart
    // even when both ask for port 0.
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = listeners.All.FirstOrDefault(l => ReferenceEquals(l.Options.EndPoint, endpoint))
            ?? throw new InvalidOperationException($"Kestrel binds {endpoint}, which no feature registered in Listeners: register every endpoint there.");
        IConnectionListener bound;
        try
        {
            bound = await (listener.IsHttp ? httpTransport : protocolTransport).BindAsync(endpoint, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressFamilyNotSupported && IsAnyIPv6(endpoint))
        {
            // Left as it is, not an IOException: Kestrel then binds an all-interfaces listener on IPv4 alone,
            // which is what a node booted with IPv6 disabled needs.
            throw;
        }
        catch (Exception ex) when (ex is SocketException or AddressInUseException)
        {
            throw new BindFailure(listener, endpoint, ex);
        }

        return new GatedListener(bound, new AcceptGate(listener.Name, listener.AcceptCapacity, files, time, logger, listener.Eviction));
    }

    private static bool IsAnyIPv6(EndPoint endpoint) => endpoint is IPEndPoint { Address: var address } && address.Equals(IPAddress.IPv6Any);

    public bool CanBind(EndPoint endpoint) => protocolTransport is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class GatedListener(IConnectionListener inner, AcceptGate gate) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            await gate.WaitForRoomAsync(cancellationToken);
            var connection = await inner.AcceptAsync(cancellationToken);
            if (connection is null)
            {
                return null;
            }

            gate.Opened(connection);
            return new GatedConnection(connection, gate);
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    // The gate counts descriptors, so its slot is given back when the socket is closed, which is when the
    // transport's DisposeAsync returns; ConnectionClosed fires earlier, when the receive side ends.
    private sealed class GatedConnection(ConnectionContext inner, AcceptGate gate) : ConnectionContext
    {
        private int _closed;

        public override string ConnectionId
        {
            get => inner.ConnectionId;
            set => inner.ConnectionId = value;
        }

        public override IFeatureCollection Features => inner.Features;

        public override IDictionary<object, object?> Items
        {
            get => inner.Items;
            set => inner.Items = value;
        }

        public override IDuplexPipe Transport
        {
            get => inner.Transport;
            set => inner.Transport = value;
        }

        public override CancellationToken ConnectionClosed
        {
            get => inner.ConnectionClosed;
            set => inner.ConnectionClosed = value;
        }

        public override EndPoint? LocalEndPoint
        {
            get => inner.LocalEndPoint;
            set => inner.LocalEndPoint = value;
        }

        public override EndPoint? RemoteEndPoint
        {
            get => inner.RemoteEndPoint;
            set => inner.RemoteEndPoint = value;
        }

        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync();
            }
            finally
            {
                if (Interlocked.Exchange(ref _closed, 1) == 0)
                {
                    gate.Closed(inner);
                }

                await base.DisposeAsync();
            }
        }
    }
}
