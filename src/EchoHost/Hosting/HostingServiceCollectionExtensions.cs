namespace EchoHost.Hosting;

public static class HostingServiceCollectionExtensions
{
    public static IServiceCollection AddEchoHostLifecycle(this IServiceCollection services)
    {
        services.AddSingleton<Listeners>();
        services.AddHostedService<LifecycleLog>();
        return services;
    }
}
