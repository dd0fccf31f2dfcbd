using System.Diagnostics;
using EchoHost.Connections.Protocols;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Connections.Diagnostics;

/// <summary>Counts each connection that reaches the protocol as opened, and as closed with its end reason.</summary>
internal sealed class ConnectionMetricsMiddleware(ConnectionDelegate next, ConnectionMetrics metrics)
{
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var started = Stopwatch.GetTimestamp();
        metrics.Opened();
        try
        {
            await next(connection);
        }
        finally
        {
            var reason = connection.Features.Get<IConnectionTrafficFeature>()?.Outcome?.Reason ?? ConnectionEndReason.Failed;
            metrics.Closed(reason, Stopwatch.GetElapsedTime(started));
        }
    }
}
