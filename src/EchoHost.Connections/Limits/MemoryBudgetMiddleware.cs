using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Limits;

/// <summary>Turns new connections away, unread and unanswered, while the listener's <see cref="MemoryBudget"/> is spent.</summary>
internal sealed class MemoryBudgetMiddleware(
    ConnectionDelegate next, MemoryBudget budget, RejectionReport report, ConnectionMetrics? metrics, ILogger logger)
{
    // An admitted connection is handed on without an awaiting frame of this middleware's own for its whole life.
    public Task OnConnectionAsync(ConnectionContext connection) => budget.IsOver ? RejectAsync(connection) : next(connection);

    private Task RejectAsync(ConnectionContext connection)
    {
        metrics?.Rejected(RejectionReasons.Memory);
        var rejected = report.Count();
        if (rejected > 0)
        {
            ConnectionLimitLog.OverMemoryBudget(logger, rejected, budget.Held, budget.Budget, RejectionReport.Interval.TotalSeconds);
        }

        return connection.CloseUnansweredAsync();
    }
}
