using System.Net;
using System.Runtime.InteropServices;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a connection keeps of an accepted socket: a descriptor it owns, the peer's address as a value and a local
/// endpoint it shares. Taken from the backlog with accept4, nothing else is made.
/// </summary>
internal readonly struct AcceptedSocket
{
    private const int ConnectionAborted = 103;

    private AcceptedSocket(SocketDescriptor descriptor, IPEndPoint? local, CompactEndPoint remote) =>
        (Descriptor, Local, Remote) = (descriptor, local, remote);

    public SocketDescriptor Descriptor { get; }

    /// <summary>Shared with the listener's other connections to the same address (<see cref="LocalEndPoints"/>).</summary>
    public IPEndPoint? Local { get; }

    public CompactEndPoint Remote { get; }

    /// <summary>
    /// 0, or -errno: EAGAIN when the backlog is empty, ECONNABORTED when the connection failed before it was set up,
    /// or what else accept4 refused.
    /// </summary>
    public static int Accept(SafeHandle listener, LocalEndPoints locals, out AcceptedSocket accepted)
    {
        Span<byte> peer = stackalloc byte[CompactEndPoint.SocketAddressLength];
        var descriptor = LinuxCalls.Accept(listener, peer);
        if (descriptor < 0)
        {
            accepted = default;
            return descriptor;
        }

        return Own(descriptor, locals, new CompactEndPoint(peer), out accepted);
    }

    // The local address is read into a value (getsockname), so only a listener's first connection to an address
    // makes an endpoint. A connection reset meanwhile can fail that or TCP_NODELAY; it is dropped.
    private static int Own(int descriptor, LocalEndPoints locals, CompactEndPoint peer, out AcceptedSocket accepted)
    {
        var owned = new SocketDescriptor(descriptor);
        Span<byte> local = stackalloc byte[CompactEndPoint.SocketAddressLength];
        if (LinuxCalls.NoDelay(owned) < 0 || LinuxCalls.SocketName(owned, local) < 0)
        {
            owned.Dispose();
            accepted = default;
            return -ConnectionAborted;
        }

        accepted = new AcceptedSocket(owned, locals.For(new CompactEndPoint(local)), peer);
        return 0;
    }
}
