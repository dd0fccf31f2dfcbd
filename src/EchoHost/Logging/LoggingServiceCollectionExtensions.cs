using Serilog;

namespace EchoHost.Logging;

public static class LoggingServiceCollectionExtensions
{
    /// <summary>
    /// Serilog from the <c>Serilog</c> configuration section, plus any sink registered as a service.
    /// Each host gets its own logger and the static one is left alone, so many hosts can run in one process.
    /// </summary>
    public static IServiceCollection AddEchoHostLogging(this IServiceCollection services) =>
        services.AddSerilog(
            (provider, logger) => logger
                .ReadFrom.Configuration(provider.GetRequiredService<IConfiguration>())
                .ReadFrom.Services(provider),
            preserveStaticLogger: true);
}
