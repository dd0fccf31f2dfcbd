using Microsoft.AspNetCore.Connections;

namespace EchoHost.Connections.Diagnostics;

public static class ConnectionMetricsBuilderExtensions
{
    /// <summary>Counts connections opened and closed (by reason) and their duration; put it just before the protocol.</summary>
    public static IConnectionBuilder UseConnectionMetrics(this IConnectionBuilder builder, ConnectionMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use(next => new ConnectionMetricsMiddleware(next, metrics).OnConnectionAsync);
    }
}
