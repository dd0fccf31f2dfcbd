using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Connections.Proxy;
using EchoHost.Connections.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace EchoHost.Echo;

public static class EchoListenerExtensions
{
    /// <summary>
    /// What every echo connection shares: its behavior, protocol factory, slot counter (<c>Echo:MaxConnections</c>,
    /// unless the host registered a smaller one first) and metrics.
    /// </summary>
    public static IServiceCollection AddEcho(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<EchoBehavior>();
        services.AddSingleton<EchoProtocolFactory>();
        services.AddSingleton<EchoMetrics>();
        services.TryAddSingleton(provider => ForMaxConnections(provider.GetRequiredService<EchoOptions>().MaxConnections));
        services.AddSingleton(provider => new EchoTls(
            provider.GetRequiredService<EchoOptions>().TlsCertificate,
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<ReloadingCertificate>()));
        return services;
    }

    /// <summary>The echo connection counter for <c>Echo:MaxConnections</c>.</summary>
    public static ConnectionCounter ForMaxConnections(int maxConnections) =>
        new(maxConnections, $"Echo:MaxConnections={maxConnections}");

    /// <summary>
    /// The echo listener on <c>Echo:Address</c>/<c>Echo:Port</c>, in pipeline order: the connection limit and the
    /// memory budget, when one is registered (so a rejected connection costs nothing more), the PROXY header (before TLS, since balancers send it in clear),
    /// TLS, the lifetime log lines (after PROXY, so they name the real client), metrics, and the echo protocol.
    /// </summary>
    public static KestrelServerOptions ListenEcho(this KestrelServerOptions kestrel, EchoOptions echo, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(echo);
        var services = kestrel.ApplicationServices;
        var counter = services.GetRequiredService<ConnectionCounter>();
        var metrics = services.GetRequiredService<EchoMetrics>().Connections;
        var certificate = services.GetRequiredService<EchoTls>().Certificate;
        var memory = services.GetService<MemoryBudget>();
        var connectionOptions = new ProtocolConnectionOptions { IdleTimeout = echo.IdleTimeout, WriteTimeout = echo.WriteTimeout, MemoryBudget = memory };

        void Pipeline(ListenOptions listen)
        {
            listen.UseConnectionLimit(counter, metrics);
            if (memory is not null)
            {
                listen.UseMemoryBudget(memory, metrics);
            }

            if (echo.ProxyProtocol == ProxyProtocolMode.Required)
            {
                listen.UseProxyProtocol(echo.ProxyProtocolTimeout, echo.ProxyProtocolTrustedNetworks, metrics);
            }

            if (certificate is not null)
            {
                listen.UseTls(certificate, metrics);
            }

            listen.UseConnectionLifetimeLogging(typeof(EchoProtocol).Namespace + ".Connections")
                .UseConnectionMetrics(metrics)
                .UseProtocol<EchoProtocolFactory>(connectionOptions, metrics);
            configure?.Invoke(listen);
        }

        if (echo.Address is null)
        {
            kestrel.ListenAnyIP(echo.Port, Pipeline);
        }
        else
        {
            kestrel.Listen(echo.Address, echo.Port, Pipeline);
        }

        return kestrel;
    }
}
