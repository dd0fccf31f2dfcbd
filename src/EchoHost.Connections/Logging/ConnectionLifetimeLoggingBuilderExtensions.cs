using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Logging;

public static class ConnectionLifetimeLoggingBuilderExtensions
{
    /// <summary>Logs each connection's peer when it opens, and its bytes and duration when it closes.</summary>
    /// <param name="category">The log category, so that a listener's connection lines can be filtered on their own.</param>
    public static IConnectionBuilder UseConnectionLifetimeLogging(this IConnectionBuilder builder, string category)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var logger = builder.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(category);
        return builder.Use(next => new ConnectionLifetimeLoggingMiddleware(next, logger).OnConnectionAsync);
    }
}
