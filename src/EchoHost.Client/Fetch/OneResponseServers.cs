using System.Collections.Concurrent;
using System.Net;

namespace EchoHost.Client.Fetch;

/// <summary>
/// Sends requests to a server that closes every connection after one response (HTTP/1.0 without keep-alive, as
/// Python's http.server) over connections used once: SocketsHttpHandler pools such a connection all the same, and a
/// request handed it as the server closes it gets no response. Each server is judged by its first response;
/// requests already sent through the pooled handler finish there, so for that moment a server may see up to twice
/// --per-host.
/// </summary>
internal sealed class OneResponseServers(Func<SocketsHttpHandler> handler) : HttpMessageHandler
{
    private readonly HttpMessageInvoker _pooled = new(handler());
    private readonly HttpMessageInvoker _single = new(WithoutReuse(handler()));
    private readonly ConcurrentDictionary<string, bool> _closers = new(StringComparer.OrdinalIgnoreCase);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var server = request.RequestUri!.GetLeftPart(UriPartial.Authority);
        if (_closers.ContainsKey(server))
        {
            return await _single.SendAsync(request, cancellationToken);
        }

        var response = await _pooled.SendAsync(request, cancellationToken);
        if (ClosesAfterResponse(response))
        {
            _closers.TryAdd(server, true);
        }

        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pooled.Dispose();
            _single.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool ClosesAfterResponse(HttpResponseMessage response) =>
        response.Version == HttpVersion.Version10
        && !response.Headers.Connection.Contains("keep-alive", StringComparer.OrdinalIgnoreCase);

    private static SocketsHttpHandler WithoutReuse(SocketsHttpHandler handler)
    {
        handler.PooledConnectionLifetime = TimeSpan.Zero;
        return handler;
    }
}
