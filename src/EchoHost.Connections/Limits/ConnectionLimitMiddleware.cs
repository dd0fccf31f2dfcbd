using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Limits;

/// <summary>
/// Admits a connection while the listener's <see cref="ConnectionCounter"/> has a slot and closes it at once,
/// unread and unanswered, when not. It comes first in the pipeline, so a rejected connection costs no PROXY
/// header read and no TLS handshake. Kestrel's own limit is not used: it logs a warning per rejected connection.
/// The slot is given back when the connection completes, after the runner has closed its socket.
/// </summary>
internal sealed class ConnectionLimitMiddleware(
    ConnectionDelegate next, ConnectionCounter counter, RejectionReport report, ConnectionMetrics? metrics, ILogger logger)
{
    public Task OnConnectionAsync(ConnectionContext connection)
    {
        var completion = connection.Completion();
        if (!counter.TryAcquire())
        {
            return RejectAsync(connection);
        }

        completion.OnCompleted(ReleaseSlot, counter);
        return next(connection);
    }

    private static Task ReleaseSlot(object counter)
    {
        ((ConnectionCounter)counter).Release();
        return Task.CompletedTask;
    }

    private Task RejectAsync(ConnectionContext connection)
    {
        metrics?.Rejected(counter.RejectionReason);
        var rejected = report.Count();
        if (rejected > 0)
        {
            ConnectionLimitLog.Rejected(logger, rejected, counter.Description, RejectionReport.Interval.TotalSeconds);
        }

        return connection.CloseUnansweredAsync();
    }
}
