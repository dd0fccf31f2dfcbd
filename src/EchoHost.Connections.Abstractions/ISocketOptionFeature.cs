namespace EchoHost.Connections;

/// <summary>
/// Sets an option on the connection's socket, offered by a transport that keeps the socket's descriptor rather than
/// a <see cref="System.Net.Sockets.Socket"/>, so that setting one makes no <see cref="System.Net.Sockets.Socket"/>.
/// </summary>
public interface ISocketOptionFeature
{
    /// <summary>setsockopt with <paramref name="value"/> as the option's bytes; false once the socket is closed, or when it refused.</summary>
    bool TrySetOption(int level, int name, ReadOnlySpan<byte> value);
}
