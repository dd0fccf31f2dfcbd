using EchoHost.Echo;

namespace EchoHost.Configuration;

public static class SettingsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the settings, read from the final configuration (appsettings, environment, command line and
    /// whatever a test host adds) the first time anything needs them.
    /// </summary>
    public static IServiceCollection AddEchoHostSettings(this IServiceCollection services)
    {
        services.AddSingleton(provider => SettingsReader.Read(
            provider.GetRequiredService<IConfiguration>(), provider.GetServices<ProtocolListenerSettings>().Select(listener => listener.Name)));
        services.AddSingleton(provider => provider.GetRequiredService<EchoHostSettings>().Echo);
        services.AddSingleton(provider => provider.GetRequiredService<EchoHostSettings>().Health);
        services.AddSingleton(provider => provider.GetRequiredService<EchoHostSettings>().Transport);
        services.AddOptions<HostOptions>().Configure<EchoHostSettings>((host, settings) => host.ShutdownTimeout = settings.ShutdownTimeout);
        return services;
    }

    /// <summary>
    /// Reads and validates the settings now, the protocol listeners' with them, so that bad ones stop the process
    /// before anything listens.
    /// </summary>
    public static EchoHostSettings ValidateEchoHostSettings(this IServiceProvider services)
    {
        var settings = services.GetRequiredService<EchoHostSettings>();
        foreach (var listener in services.GetServices<ProtocolListenerSettings>())
        {
            services.GetRequiredKeyedService<ProtocolListenerSettings>(listener.Name);
        }

        return settings;
    }
}
