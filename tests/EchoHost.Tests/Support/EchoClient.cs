using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Support;

/// <summary>How a connection ended, as the client saw it.</summary>
public enum ConnectionEnd
{
    /// <summary>The server sent FIN: a read returned zero bytes.</summary>
    Fin,

    /// <summary>The server reset the connection.</summary>
    Reset,
}

/// <summary>A plain TCP client with deadlines on every read, so a broken server fails a test instead of hanging it.</summary>
public sealed class EchoClient : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;

    private EchoClient(Socket socket) => _socket = socket;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static async Task<EchoClient> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Deadline);
        await socket.ConnectAsync(endPoint, timeout.Token);
        return new EchoClient(socket);
    }

    public async Task SendAsync(byte[] data)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        await _socket.SendAsync(data, SocketFlags.None, timeout.Token);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends FIN: no more data from this side, replies still welcome.</summary>
    public void HalfClose() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Closes with SO_LINGER 0, which sends RST.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public async Task<byte[]> ReceiveExactlyAsync(int count)
    {
        var buffer = new byte[count];
        using var timeout = new CancellationTokenSource(Deadline);
        var read = 0;
        while (read < count)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"The server closed after {read} of {count} bytes: '{Encoding.UTF8.GetString(buffer, 0, read)}'.");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>The next LF-terminated line, or null with how the connection ended when it ends first.</summary>
    public async Task<(string? Line, ConnectionEnd End)> ReceiveLineOrEndAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(one, SocketFlags.None, timeout.Token);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return (null, ConnectionEnd.Reset);
            }

            if (read == 0)
            {
                return (line.Count == 0 ? null : Encoding.UTF8.GetString([.. line]), ConnectionEnd.Fin);
            }

            line.Add(one[0]);
            if (one[0] == (byte)'\n')
            {
                return (Encoding.UTF8.GetString([.. line]), ConnectionEnd.Fin);
            }
        }
    }

    public async Task<string> ReceiveTextAsync(string expected) =>
        Encoding.UTF8.GetString(await ReceiveExactlyAsync(Encoding.UTF8.GetByteCount(expected)));

    /// <summary>Reads until the server ends the connection; returns what arrived and how it ended.</summary>
    public async Task<(byte[] Data, ConnectionEnd End)> ReceiveToEndAsync(TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Deadline);
        using var data = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    return (data.ToArray(), ConnectionEnd.Fin);
                }

                data.Write(buffer, 0, n);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return (data.ToArray(), ConnectionEnd.Reset);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
