using System.Net;
using EchoHost.Transport;
using EchoHost.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog.Core;

namespace EchoHost.Tests.Support;

/// <summary>
/// The real host (found through its public <see cref="Listeners"/> type, since two assemblies here have a
/// <c>Program</c>) on real Kestrel sockets, both listeners on port 0, with extra settings layered on top of
/// appsettings.json the way command-line arguments are, and every log event captured.
/// </summary>
public sealed class EchoHostFactory : WebApplicationFactory<Listeners>
{
    private readonly IReadOnlyDictionary<string, string> _settings;

    private readonly TimeProvider? _time;

    /// <param name="settings">Settings layered over appsettings.json.</param>
    /// <param name="time">A clock for the host's own timers (certificate reloads, timeouts); the real one when null.</param>
    public EchoHostFactory(IReadOnlyDictionary<string, string>? settings = null, TimeProvider? time = null)
    {
        _settings = settings ?? new Dictionary<string, string>();
        _time = time;
        UseKestrel();
    }

    public LogCapture Logs { get; } = new();

    public IPEndPoint EchoEndPoint => new(IPAddress.Loopback, Services.GetRequiredService<Listeners>()[Listeners.Echo].EndPoint.Port);

    public Uri HealthUri => new($"http://127.0.0.1:{Services.GetRequiredService<Listeners>()[Listeners.Health].EndPoint.Port}");

    public static EchoHostFactory Start(IReadOnlyDictionary<string, string>? settings = null, TimeProvider? time = null)
    {
        var factory = new EchoHostFactory(settings, time);
        factory.StartServer();
        return factory;
    }

    public async Task<EchoClient> ConnectAsync() => await EchoClient.ConnectAsync(EchoEndPoint);

    public HttpClient CreateHealthClient() => new() { BaseAddress = HealthUri, Timeout = TimeSpan.FromSeconds(10) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Echo:Port", "0");
        builder.UseSetting("Health:Port", "0");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<ILogEventSink>(Logs);
            if (_time is not null)
            {
                services.AddSingleton(_time);
            }
        });
    }

    // UseKestrel() registers Kestrel's services again after the app's, its default memory pool included;
    // putting the app's pool back keeps the tests on the transport production runs.
    protected override IHost CreateHost(IHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureServices(services => services.AddEchoHostTransport());
        return base.CreateHost(builder);
    }
}
