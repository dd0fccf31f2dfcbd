using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Hosting;
using EchoHost.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Echo;

public static class EchoListenerServiceCollectionExtensions
{
    /// <summary>
    /// The echo protocol's services and its Kestrel listener, remembered in <see cref="Listeners"/>. Its
    /// connection limit is <c>Echo:MaxConnections</c>, or fewer when the file-descriptor limit does not fit that
    /// many (<see cref="DescriptorBudget.EchoConnections"/>); the start-up log then says so.
    /// </summary>
    public static IServiceCollection AddEchoListener(this IServiceCollection services)
    {
        services.AddSingleton(provider =>
        {
            var maxConnections = provider.GetRequiredService<EchoOptions>().MaxConnections;
            var budget = provider.GetRequiredService<DescriptorBudget>();
            return budget.EchoConnections < maxConnections
                ? new ConnectionCounter(
                    budget.EchoConnections, $"the {budget.EchoConnections} echo connections RLIMIT_NOFILE={budget.Limit} leaves room for", RejectionReasons.FileDescriptors)
                : EchoListenerExtensions.ForMaxConnections(maxConnections);
        });
        services.AddEcho();
        services.AddOptions<KestrelServerOptions>().Configure<EchoOptions, Listeners, EchoMetrics, DescriptorBudget>(
            (kestrel, echo, listeners, metrics, descriptors) => kestrel.ListenEcho(
                echo, listen => listeners.Add(new Listener(
                    Listeners.Echo, "Echo:Port", echo.TlsCertificate is null ? "raw TCP" : "TLS over TCP", listen, descriptors.EchoAcceptCapacity, metrics.Connections))));
        return services;
    }
}
