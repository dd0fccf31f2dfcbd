using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Limits;

public static class ConnectionLimitBuilderExtensions
{
    /// <summary>Admits at most <see cref="ConnectionCounter.Limit"/> connections at once; put it first.</summary>
    public static IConnectionBuilder UseConnectionLimit(this IConnectionBuilder builder, ConnectionCounter counter, ConnectionMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.ApplicationServices;
        var report = new RejectionReport(services.Clock());
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ConnectionCounter>();
        return builder.Use(next => new ConnectionLimitMiddleware(next, counter, report, metrics, logger).OnConnectionAsync);
    }

    /// <summary>Turns new connections away while <paramref name="budget"/> is spent; put it right after the connection limit.</summary>
    public static IConnectionBuilder UseMemoryBudget(this IConnectionBuilder builder, MemoryBudget budget, ConnectionMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.ApplicationServices;
        var report = new RejectionReport(services.Clock());
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<MemoryBudget>();
        return builder.Use(next => new MemoryBudgetMiddleware(next, budget, report, metrics, logger).OnConnectionAsync);
    }
}
