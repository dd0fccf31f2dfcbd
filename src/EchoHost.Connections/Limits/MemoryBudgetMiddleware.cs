using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Limits;

/// <summary>Turns new connections away, unread and unanswered, while the listener's <see cref="MemoryBudget"/> is spent.</summary>
internal sealed class MemoryBudgetMiddleware(
    ConnectionDelegate next, MemoryBudget budget, RejectionReport report, ConnectionMetrics? metrics, ILogger logger)
{
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (budget.IsOver)
        {
            metrics?.Rejected(RejectionReasons.Memory);
            var rejected = report.Count();
            if (rejected > 0)
            {
                ConnectionLimitLog.OverMemoryBudget(logger, rejected, budget.Held, budget.Budget, RejectionReport.Interval.TotalSeconds);
            }

            await connection.CloseUnansweredAsync();
            return;
        }

        await next(connection);
    }
}
