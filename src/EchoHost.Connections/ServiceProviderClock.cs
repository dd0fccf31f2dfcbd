using Microsoft.Extensions.DependencyInjection;

namespace EchoHost.Connections;

internal static class ServiceProviderClock
{
    /// <summary>The host's clock when it registered one (tests register a fake), else the system's.</summary>
    public static TimeProvider Clock(this IServiceProvider services) => services.GetService<TimeProvider>() ?? TimeProvider.System;
}
