using System.Net;
using System.Net.Sockets;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a connection keeps of an accepted socket: a duplicate of its descriptor, the peer's address as a value and
/// a local endpoint it shares. The <see cref="Socket"/>, with the endpoint objects it caches, is disposed, which
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
