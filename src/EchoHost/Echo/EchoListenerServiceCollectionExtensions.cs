using EchoHost.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Echo;

public static class EchoListenerServiceCollectionExtensions
{
    /// <summary>The echo protocol's services and its Kestrel listener, remembered in <see cref="Listeners"/>.</summary>
    public static IServiceCollection AddEchoListener(this IServiceCollection services)
    {
        services.AddEcho();
        services.AddOptions<KestrelServerOptions>().Configure<EchoOptions, Listeners, EchoMetrics>(
            (kestrel, echo, listeners, metrics) => kestrel.ListenEcho(
                echo, listen => listeners.Add(new Listener(Listeners.Echo, "Echo:Port", "raw TCP", listen, metrics.Connections))));
        return services;
    }
}
