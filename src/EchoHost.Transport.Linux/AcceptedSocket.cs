using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a connection keeps of an accepted socket: a descriptor it owns, the peer's address as a value and a local
/// endpoint it shares. Taken from
/// the backlog with accept4, nothing else is made; a connection the runtime's <see cref="Socket"/> accepted gets a
/// duplicate of its descriptor, and the <see cref="Socket"/>, with the endpoint objects it caches, is disposed, which
/// leaves the connection open on the duplicate.
/// </summary>
internal readonly struct AcceptedSocket
{
    private AcceptedSocket(SocketDescriptor descriptor, IPEndPoint? local, CompactEndPoint remote) =>
        (Descriptor, Local, Remote) = (descriptor, local, remote);

    public SocketDescriptor Descriptor { get; }

    /// <summary>Shared with the listener's other connections to the same address (<see cref="LocalEndPoints"/>).</summary>
    public IPEndPoint? Local { get; }

    public CompactEndPoint Remote { get; }

    /// <summary>0, or -errno: EAGAIN when the backlog is empty, or what accept4 or TCP_NODELAY refused.</summary>
    public static int Accept(SafeHandle listener, LocalEndPoints locals, out AcceptedSocket accepted)
    {
        accepted = default;
        Span<byte> peer = stackalloc byte[CompactEndPoint.SocketAddressLength];
        var descriptor = LinuxCalls.Accept(listener, peer);
        if (descriptor < 0)
        {
            return descriptor;
        }

        var owned = new SocketDescriptor(descriptor);
        Span<byte> local = stackalloc byte[CompactEndPoint.SocketAddressLength];
        var failed = Math.Min(LinuxCalls.NoDelay(owned), LinuxCalls.SocketName(owned, local));
        if (failed < 0)
        {
            owned.Dispose();
            return failed;
        }

        accepted = new AcceptedSocket(owned, locals.For(new CompactEndPoint(local)), new CompactEndPoint(peer));
        return 0;
    }

    /// <summary>0, or -errno when no descriptor was left to duplicate (EMFILE); the socket is disposed either way.</summary>
    public static int Take(Socket socket, LocalEndPoints locals, out AcceptedSocket accepted)
    {
        using (socket)
        {
            socket.NoDelay = true;
            var descriptor = LinuxCalls.Duplicate(socket.SafeHandle);
            accepted = descriptor < 0
                ? default
                : new AcceptedSocket(new SocketDescriptor(descriptor), locals.For(new CompactEndPoint(socket.LocalEndPoint)), new CompactEndPoint(socket.RemoteEndPoint));
            return Math.Min(descriptor, 0);
        }
    }
}
