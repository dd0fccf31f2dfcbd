using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using EchoHost.Configuration;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Echo;
using EchoHost.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Hosting;

public static class ProtocolListenerServiceCollectionExtensions
{
    /// <summary>
    /// A protocol of your own on a port of its own, next to echo, with what echo's listener has: its settings
    /// section (<see cref="ProtocolListenerSettings"/>), a connection limit whose descriptors the
    /// <see cref="DescriptorBudget"/> reserves, an accept gate of that size, the lifetime log lines
    /// (category <c>{factory namespace}.Connections</c>), metrics named <c>echohost_{name}_connections_*</c>, its
    /// start-up line, and a bind failure that names its port setting. It runs on the echo listener's transport.
    /// </summary>
    public static IServiceCollection AddProtocolListener<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFactory>(
        this IServiceCollection services, ProtocolListenerSettings defaults)
        where TFactory : class, IConnectionProtocolFactory
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var prefix = "echohost." + defaults.Name.ToLowerInvariant();
        services.AddSingleton<TFactory>();

        // Unkeyed, the defaults say which sections are listeners' (for typos); keyed, the settings as configured.
        services.AddSingleton(defaults);
        services.AddKeyedSingleton(defaults.Name, (provider, _) => SettingsReader.ReadListener(provider.GetRequiredService<IConfiguration>(), defaults));
        services.AddKeyedSingleton(defaults.Name, (provider, _) => new ConnectionMetrics(provider.GetRequiredService<IMeterFactory>().Create(EchoMetrics.MeterName), prefix));

        // Its connections and those being turned away: the echo listener gets what is left.
        services.AddSingleton(provider => new DescriptorReservation(
            defaults.Name, provider.GetRequiredKeyedService<ProtocolListenerSettings>(defaults.Name).MaxConnections + DescriptorBudget.RejectionHeadroom));
        services.AddOptions<KestrelServerOptions>().Configure<Listeners, IServiceProvider>((kestrel, listeners, provider) =>
        {
            var settings = provider.GetRequiredKeyedService<ProtocolListenerSettings>(defaults.Name);
            var metrics = provider.GetRequiredKeyedService<ConnectionMetrics>(defaults.Name);
            var counter = new ConnectionCounter(settings.MaxConnections, $"{settings.Name}:MaxConnections={settings.MaxConnections}");
            var options = new ProtocolConnectionOptions { IdleTimeout = settings.IdleTimeout, WriteTimeout = settings.WriteTimeout };
            void Pipeline(ListenOptions listen)
            {
                listen.UseConnectionLimit(counter, metrics)
                    .UseConnectionLifetimeLogging(typeof(TFactory).Namespace + ".Connections")
                    .UseConnectionMetrics(metrics)
                    .UseProtocol<TFactory>(options, metrics);
                listeners.Add(new Listener(
                    settings.Name, $"{settings.Name}:Port", settings.Speaks, listen, settings.MaxConnections + DescriptorBudget.RejectionHeadroom, metrics));
            }

            if (settings.Address is null)
            {
                kestrel.ListenAnyIP(settings.Port, Pipeline);
            }
            else
            {
                kestrel.Listen(settings.Address, settings.Port, Pipeline);
            }
        });
        return services;
    }
}
