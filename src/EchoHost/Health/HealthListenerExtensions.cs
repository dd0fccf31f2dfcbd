using System.Diagnostics.Metrics;
using EchoHost.Configuration;
using EchoHost.Echo;
using EchoHost.Hosting;
using EchoHost.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EchoHost.Health;

public static class HealthListenerExtensions
{
    private const string ReadyTag = "ready";

    /// <summary>
    /// The HTTP listener on <c>Health:Port</c>, the only port that speaks HTTP, and the checks behind it. When slow
    /// clients hold every slot, it closes the one that waited longest without a complete request to accept a new
    /// one (<see cref="ConnectionEviction"/>), counted as <c>echohost_health_connections_evicted_total</c>.
    /// </summary>
    public static IServiceCollection AddHealthListener(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<EchoListenerHealthCheck>("echo-listener", tags: [ReadyTag]);
        services.AddSingleton(provider =>
        {
            var eviction = new ConnectionEviction();
            provider.GetRequiredService<IMeterFactory>().Create(EchoMetrics.MeterName).CreateObservableCounter(
                "echohost.health.connections.evicted",
                () => eviction.Evicted,
                "{connection}",
                "Health-port connections with no request in progress closed to make room for new ones.");
            return eviction;
        });
        services.AddTransient<IStartupFilter, RequestTrackingStartupFilter>();
        services.AddOptions<KestrelServerOptions>().Configure<HealthOptions, Listeners, ConnectionEviction>((kestrel, health, listeners, eviction) =>
        {
            // Probes send one small request and leave: a client slower than this is shed rather than left
            // holding a descriptor (these limits apply to HTTP, which only the health listener speaks).
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(10);
            kestrel.ListenAnyIP(health.Port, listen =>
            {
                // Probes speak HTTP/1.1; cleartext HTTP/2 would need prior knowledge anyway.
                listen.Protocols = HttpProtocols.Http1;
                listeners.Add(new Listener(
                    Listeners.Health, "Health:Port", "HTTP: /healthz, /readyz, /metrics", listen, DescriptorBudget.HealthReserve - ConnectionEviction.ClosingLimit)
                {
                    Eviction = eviction,
                    IsHttp = true,
                });
            });
        });
        return services;
    }

    /// <summary><c>/healthz</c>: the process is alive. <c>/readyz</c>: the echo listener accepts connections.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new() { Predicate = _ => false });
        endpoints.MapHealthChecks("/readyz", new() { Predicate = check => check.Tags.Contains(ReadyTag) });
        return endpoints;
    }
}
