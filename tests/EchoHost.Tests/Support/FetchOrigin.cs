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
/// <c>/status/{code}</c> answers that status, <c>/abort?size=</c> breaks off mid-body. It counts requests in
/// flight and the most seen at once, so tests assert concurrency by counting, not by timing.
/// </summary>
internal sealed class FetchOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;
    private int _maxInFlight;

    private FetchOrigin(WebApplication app) => _app = app;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>When each request for a /flaky/{id} URL arrived, by id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<DateTime>> Attempts { get; } = new();

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

    public string Url(string pathAndQuery) => new Uri(BaseUri, pathAndQuery).AbsoluteUri;

    public static byte[] ContentOf(string name, int size) =>
        Enumerable.Range(0, size).Select(i => (byte)name[i % name.Length]).ToArray();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

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

        _app.MapGet("/abort", async (HttpContext context, int size = 100_000) =>
        {
            context.Response.ContentLength = size;
            await context.Response.Body.WriteAsync(new byte[size / 2], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
