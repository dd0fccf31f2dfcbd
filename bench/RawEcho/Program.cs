using System.Net;
using System.Net.Sockets;
using System.Text;

// RawEcho PORT [PREFIX]: with a prefix, answers each LF-terminated line with PREFIX + line (lines cut at 8192
// bytes, as EchoHost does); without one, echoes every read as it is. One task per connection, one buffer each,
// one send per read: the least a .NET server can do for this protocol.
var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var prefix = Encoding.UTF8.GetBytes(args.Length > 1 ? args[1] : string.Empty);
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(512);
Console.WriteLine($"RawEcho serving on {listener.LocalEndPoint}");

while (true)
{
    var socket = await listener.AcceptAsync();
    socket.NoDelay = true;
    _ = prefix.Length == 0 ? PureEchoAsync(socket) : LineEchoAsync(socket, prefix);
}

static async Task PureEchoAsync(Socket socket)
{
    using var _ = socket;
    var buffer = new byte[16 * 1024];
    try
    {
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
        {
            await SendAllAsync(socket, buffer.AsMemory(0, read));
        }
    }
    catch (SocketException)
    {
    }
}

static async Task LineEchoAsync(Socket socket, byte[] prefix)
{
    using var _ = socket;
    const int MaxLine = 8192;
    var input = new byte[MaxLine * 2];
    var output = new byte[(MaxLine + prefix.Length) * 4];
    var pending = 0;
    try
    {
        int read;
        while ((read = await socket.ReceiveAsync(input.AsMemory(pending), SocketFlags.None)) > 0)
        {
            pending += read;
            var written = 0;
            var start = 0;
            while (true)
            {
                var window = Math.Min(pending - start, MaxLine);
                var lineFeed = input.AsSpan(start, window).IndexOf((byte)'\n');
                var length = lineFeed >= 0 ? lineFeed + 1 : window == MaxLine ? MaxLine : -1;
                if (length < 0)
                {
                    break;
                }

                if (written + prefix.Length + length > output.Length)
                {
                    await SendAllAsync(socket, output.AsMemory(0, written));
                    written = 0;
                }

                prefix.CopyTo(output.AsSpan(written));
                input.AsSpan(start, length).CopyTo(output.AsSpan(written + prefix.Length));
                written += prefix.Length + length;
                start += length;
            }

            input.AsSpan(start, pending - start).CopyTo(input);
            pending -= start;
            await SendAllAsync(socket, output.AsMemory(0, written));
        }
    }
    catch (SocketException)
    {
    }
}

static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
{
    while (!data.IsEmpty)
    {
        data = data[await socket.SendAsync(data, SocketFlags.None)..];
    }
}
