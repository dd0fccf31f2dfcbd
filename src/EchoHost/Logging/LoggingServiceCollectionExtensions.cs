using Serilog;
using Serilog.Formatting.Compact;
using Serilog.Settings.Configuration;

namespace EchoHost.Logging;

public static class LoggingServiceCollectionExtensions
{
    // The sinks and formatters that ship with the host. Naming them spares Serilog a scan of every assembly in
    // the app for sinks, which cost 20 of the 40 ms that reading the Serilog section took at start-up.
    private static readonly ConfigurationReaderOptions ShippedSinks = new(
        typeof(ConsoleLoggerConfigurationExtensions).Assembly,
        typeof(LoggerConfigurationAsyncExtensions).Assembly,
        typeof(FileLoggerConfigurationExtensions).Assembly,
        typeof(LoggerSinkConfigurationDebugExtensions).Assembly,
        typeof(CompactJsonFormatter).Assembly);

    /// <summary>
    /// Serilog from the <c>Serilog</c> configuration section, plus any sink registered as a service.
    /// Each host gets its own logger and the static one is left alone, so many hosts can run in one process.
    /// </summary>
    public static IServiceCollection AddEchoHostLogging(this IServiceCollection services) =>
        services.AddSerilog(
            (provider, logger) => logger
                .ReadFrom.Configuration(provider.GetRequiredService<IConfiguration>(), ShippedSinks)
                .ReadFrom.Services(provider),
            preserveStaticLogger: true);
}
