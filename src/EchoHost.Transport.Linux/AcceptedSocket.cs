using System.Net.Sockets;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a connection keeps of an accepted <see cref="Socket"/>: a descriptor of its own for the socket, and the two
/// addresses. The <see cref="Socket"/>, with the endpoint objects it caches, is disposed once they are taken, so an
/// idle connection does not carry it; closing its descriptor leaves the connection open on the other.
/// </summary>
internal readonly struct AcceptedSocket
{
    private AcceptedSocket(SocketDescriptor descriptor, CompactEndPoint local, CompactEndPoint remote) =>
        (Descriptor, Local, Remote) = (descriptor, local, remote);

    public SocketDescriptor Descriptor { get; }

    public CompactEndPoint Local { get; }

    public CompactEndPoint Remote { get; }

    /// <summary>0, or -errno when no descriptor was left to duplicate (EMFILE); the socket is disposed either way.</summary>
    public static int Take(Socket socket, out AcceptedSocket accepted)
    {
        using (socket)
        {
            var descriptor = LinuxCalls.Duplicate(socket.SafeHandle);
            accepted = descriptor < 0
                ? default
                : new AcceptedSocket(new SocketDescriptor(descriptor), new CompactEndPoint(socket.LocalEndPoint), new CompactEndPoint(socket.RemoteEndPoint));
            return Math.Min(descriptor, 0);
        }
    }
}
