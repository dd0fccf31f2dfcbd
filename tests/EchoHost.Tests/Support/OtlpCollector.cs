using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EchoHost.Tests.Support;

/// <summary>
/// A stand-in OpenTelemetry collector on loopback: it accepts OTLP/HTTP metric exports at <c>/v1/metrics</c>,
/// counts them and keeps the last body (protobuf, whose instrument names appear as plain text).
/// </summary>
internal sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _posts;

    private OtlpCollector(WebApplication app) => _app = app;

    public string Endpoint => _app.Urls.Single();

    public int MetricsPosts => Volatile.Read(ref _posts);

    public string LastBody { get; private set; } = string.Empty;

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            collector.LastBody = Encoding.Latin1.GetString(body.ToArray());
            Interlocked.Increment(ref collector._posts);
            return Results.Ok();
        });
        await app.StartAsync();
        return collector;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
