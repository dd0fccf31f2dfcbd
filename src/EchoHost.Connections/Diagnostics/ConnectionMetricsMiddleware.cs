using System.Diagnostics;
using EchoHost.Connections.Protocols;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Connections.Diagnostics;

/// <summary>Counts each connection that reaches the protocol as opened, and as closed with its end reason.</summary>
internal sealed class ConnectionMetricsMiddleware(ConnectionDelegate next, ConnectionMetrics metrics)
{
    public Task OnConnectionAsync(ConnectionContext connection)
    {
        var completion = connection.Completion();
        metrics.Opened();
        completion.OnCompleted(static opened => ((OpenConnection)opened).Close(), new OpenConnection(connection, metrics, Stopwatch.GetTimestamp()));
        return next(connection);
    }

    private sealed class OpenConnection(ConnectionContext connection, ConnectionMetrics metrics, long started)
    {
        public Task Close()
        {
            var reason = connection.Features.Get<IConnectionTrafficFeature>()?.Outcome?.Reason ?? ConnectionEndReason.Failed;
            metrics.Closed(reason, Stopwatch.GetElapsedTime(started));
            return Task.CompletedTask;
        }
    }
}
