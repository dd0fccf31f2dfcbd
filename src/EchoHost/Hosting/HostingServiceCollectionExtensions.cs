using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EchoHost.Hosting;

public static class HostingServiceCollectionExtensions
{
    public static IServiceCollection AddEchoHostLifecycle(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Listeners>();
        services.AddHostedService<LifecycleLog>();
        return services;
    }
}
