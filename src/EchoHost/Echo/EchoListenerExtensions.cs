using EchoHost.Configuration;
using EchoHost.Hosting;
using EchoHost.Protocol.Connections;
using EchoHost.Protocol.Echo;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Echo;

public static class EchoListenerExtensions
{
    /// <summary>The raw TCP listener on <c>Echo:Address</c>/<c>Echo:Port</c>, served by <see cref="EchoConnectionHandler"/>.</summary>
    public static IServiceCollection AddEchoListener(this IServiceCollection services)
    {
        services.AddSingleton<EchoBehavior>();
        services.AddSingleton(provider => new EchoConnections(
            provider.GetRequiredService<EchoOptions>().MaxConnections,
            provider.GetRequiredService<TimeProvider>()));
        services.AddOptions<KestrelServerOptions>().Configure<EchoOptions, Listeners>((kestrel, echo, listeners) =>
        {
            void Configure(ListenOptions listen)
            {
                listen.UseConnectionHandler<EchoConnectionHandler>();
                listeners.SetEcho(listen);
            }

            if (echo.Address is null)
            {
                kestrel.ListenAnyIP(echo.Port, Configure);
            }
            else
            {
                kestrel.Listen(echo.Address, echo.Port, Configure);
            }
        });
        return services;
    }
}
