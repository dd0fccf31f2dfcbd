using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoHost.Tests.Support;

/// <summary>
/// A local HTTP origin for fetch tests: <c>/page/{name}?size=&amp;delay=</c> streams that many bytes after a delay,
/// <c>/paced/{name}?size=&amp;chunks=</c> sends each piece when the test calls <see cref="SendPiece"/>,
/// <c>/status/{code}</c> answers that status, <c>/abort?size=</c> breaks off mid-body, <c>/file/{name}?size=&amp;breakAt=&amp;breaks=</c>
/// serves a file with an ETag and honours Range with If-Range (breaking off the first responses at a byte offset),
/// <c>/norange/{name}</c> the same file ignoring Range, <c>/reset/{id}?failures=</c> resets the connection before
/// any response. It counts requests in flight and the most seen at once, so tests assert concurrency by counting,
/// not by timing, and the bytes and range requests each file got.
/// </summary>
internal sealed class FetchOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;
    private int _maxInFlight;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _pieces = new();

    private FetchOrigin(WebApplication app) => _app = app;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>When each request for a /flaky/{id} URL arrived, by id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<DateTime>> Attempts { get; } = new();

    /// <summary>Body bytes sent for each /file/{name} and /norange/{name}.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, long> BytesSent { get; } = new();

    /// <summary>The Range header of every request for a /file/{name}, or "" when it had none.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<string>> Ranges { get; } = new();

    public Uri BaseUri { get; private set; } = null!;

    public static async Task<FetchOrigin> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var origin = new FetchOrigin(builder.Build());
        origin.Map();
        await origin._app.StartAsync();
        var address = origin._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        origin.BaseUri = new Uri(address);
        return origin;
    }

    /// <summary>Lets the /paced/{name} response send its next piece.</summary>
    public void SendPiece(string name) => Pieces(name).Release();

    public string Url(string pathAndQuery) => new Uri(BaseUri, pathAndQuery).AbsoluteUri;

    public static byte[] ContentOf(string name, int size) =>
        Enumerable.Range(0, size).Select(i => (byte)name[i % name.Length]).ToArray();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private SemaphoreSlim Pieces(string name) => _pieces.GetOrAdd(name, _ => new SemaphoreSlim(0));

    private void Map()
    {
        _app.Use(async (context, next) =>
        {
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxInFlight, now);
            try
            {
                await next(context);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });

        _app.MapGet("/page/{name}", async (HttpContext context, string name, int size = 1000, int delay = 0) =>
        {
            await Task.Delay(delay, context.RequestAborted);
            context.Response.ContentLength = size;
            var body = ContentOf(name, size);
            for (var offset = 0; offset < size; offset += 4096)
            {
                await context.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(4096, size - offset)), context.RequestAborted);
            }
        });

        // Sends 'size' bytes in 'chunks' pieces, each when the test calls SendPiece.
        _app.MapGet("/paced/{name}", async (HttpContext context, string name, int size, int chunks) =>
        {
            context.Response.ContentLength = size;
            var body = ContentOf(name, size);
            var piece = size / chunks;
            for (var i = 0; i < chunks; i++)
            {
                await Pieces(name).WaitAsync(context.RequestAborted);
                var length = i == chunks - 1 ? size - (i * piece) : piece;
                await context.Response.Body.WriteAsync(body.AsMemory(i * piece, length), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });

        _app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));

        // Fails the first 'failures' requests for an id with 'status' (and Retry-After when given), then serves.
        _app.MapGet("/flaky/{id}", (HttpContext context, string id, int failures, int status, int? retryAfter) =>
        {
            var attempts = Attempts.GetOrAdd(id, _ => new());
            attempts.Enqueue(DateTime.UtcNow);
            if (attempts.Count > failures)
            {
                return Results.Bytes(ContentOf(id, 1000));
            }

            if (retryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.StatusCode(status);
        });

        _app.MapGet("/file/{name}", async (HttpContext context, string name, int size, int breakAt = -1, int breaks = 0) =>
        {
            var ranges = Ranges.GetOrAdd(name, _ => new());
            var range = context.Request.Headers.Range.ToString();
            ranges.Enqueue(range);
            var tag = $"\"{name}-{size}\"";
            context.Response.Headers.ETag = tag;
            context.Response.Headers.AcceptRanges = "bytes";
            var from = 0;
            if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && context.Request.Headers.IfRange.ToString() == tag)
            {
                from = int.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
                context.Response.StatusCode = StatusCodes.Status206PartialContent;
                context.Response.Headers.ContentRange = $"bytes {from}-{size - 1}/{size}";
            }

            var stopAt = ranges.Count <= breaks ? breakAt : -1;
            await SendAsync(context, name, FetchOrigin.ContentOf(name, size).AsMemory(from), stopAt < 0 ? -1 : stopAt - from);
        });

        _app.MapGet("/norange/{name}", async (HttpContext context, string name, int size) =>
        {
            context.Response.Headers.ETag = $"\"{name}-{size}\"";
            await SendAsync(context, name, FetchOrigin.ContentOf(name, size), -1);
        });

        // Resets the first 'failures' requests for an id before any response, then serves.
        _app.MapGet("/reset/{id}", (HttpContext context, string id, int failures) =>
        {
            var attempts = Attempts.GetOrAdd(id, _ => new());
            attempts.Enqueue(DateTime.UtcNow);
            if (attempts.Count > failures)
            {
                return Results.Bytes(ContentOf(id, 1000));
            }

            context.Abort();
            return Results.Empty;
        });

        _app.MapGet("/abort", async (HttpContext context, int size = 100_000) =>
        {
            context.Response.ContentLength = size;
            await context.Response.Body.WriteAsync(new byte[size / 2], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
        });
    }

    // Sends the body in 64 KiB writes, counting them; with stopAt, breaks the connection once that many bytes are out.
    private async Task SendAsync(HttpContext context, string name, ReadOnlyMemory<byte> body, int stopAt)
    {
        context.Response.ContentLength = body.Length;
        for (var offset = 0; offset < body.Length; offset += 64 * 1024)
        {
            var chunk = body.Slice(offset, Math.Min(64 * 1024, body.Length - offset));
            if (stopAt >= 0 && offset + chunk.Length > stopAt)
            {
                await context.Response.Body.WriteAsync(chunk[..(stopAt - offset)], context.RequestAborted);
                BytesSent.AddOrUpdate(name, stopAt - offset, (_, sent) => sent + stopAt - offset);

                // Returning short of the Content-Length makes Kestrel end the connection once the bytes are sent,
                // with a FIN: the client gets every byte, then an early end. (An abort could reset them away.)
                return;
            }

            await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            BytesSent.AddOrUpdate(name, chunk.Length, (_, sent) => sent + chunk.Length);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
