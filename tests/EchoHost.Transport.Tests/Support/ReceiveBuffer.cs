using System.Net.Sockets;

namespace EchoHost.Transport.Tests.Support;

/// <summary>
/// A socket's receive buffer sized for a test that must fit many blocks in it: SO_RCVBUFFORCE, which root may set past
/// <c>net.core.rmem_max</c>, else SO_RCVBUF, which that caps.
/// </summary>
internal static class ReceiveBuffer
{
    public const string TooSmall = "the bytes did not all arrive (a receive buffer past net.core.rmem_max needs root)";

    private const int SocketLevel = 1;
    private const int ForcedReceiveBuffer = 33;

    public static void Reserve(Socket socket, int bytes)
    {
        try
        {
            socket.SetRawSocketOption(SocketLevel, ForcedReceiveBuffer, BitConverter.GetBytes(bytes));
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = bytes;
        }
    }
}
