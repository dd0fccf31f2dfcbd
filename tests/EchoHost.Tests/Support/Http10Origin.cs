using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Support;

/// <summary>
/// An HTTP/1.0 origin that answers one request per connection (<c>/{name}?size=</c>, the bytes of
/// <see cref="FetchOrigin.ContentOf"/>) and answers nothing after it. It closes the connection only once the client
/// has, or after <see cref="Linger"/>: the late close that lets a client which reuses the connection send a request
/// nobody will answer, which Python's http.server does by chance and this origin every time.
/// </summary>
internal sealed class Http10Origin : IAsyncDisposable
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;
    private int _unanswered;

    public Http10Origin()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections on which bytes came after the response: a request sent on a connection already used.</summary>
    public int Unanswered => Volatile.Read(ref _unanswered);

    public string Url(string pathAndQuery) => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{pathAndQuery}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                connections.Add(AnswerOnceAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task AnswerOnceAsync(TcpClient client)
    {
        using var _ = client;
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        linger.CancelAfter(Linger);
        try
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, linger.Token);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var target = new Uri(new Uri("http://origin"), head.ToString().Split(' ')[1]);
            var size = int.Parse(target.Query.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
            var body = FetchOrigin.ContentOf(target.AbsolutePath.TrimStart('/'), size);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {size}\r\n\r\n"), linger.Token);
            await stream.WriteAsync(body, linger.Token);

            // A second request is read and never answered: the connection waits for the client's close, or the linger's end.
            if (await stream.ReadAsync(buffer, linger.Token) > 0)
            {
                Interlocked.Increment(ref _unanswered);
                await Task.Delay(Timeout.Infinite, linger.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }
    }
}
