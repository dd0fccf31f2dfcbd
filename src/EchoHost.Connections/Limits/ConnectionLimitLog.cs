using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Limits;

internal static partial class ConnectionLimitLog
{
    [LoggerMessage(
        EventId = 14,
        Level = LogLevel.Warning,
        Message = "Rejected {Rejected} connection(s) over {Limit} (reported at most once per {IntervalSeconds} s)")]
    public static partial void Rejected(ILogger logger, long rejected, string limit, double intervalSeconds);

    [LoggerMessage(
        EventId = 16,
        Level = LogLevel.Warning,
        Message = "Rejected {Rejected} connection(s): clients that do not read hold {Held} bytes of the {Budget}-byte memory budget (reported at most once per {IntervalSeconds} s)")]
    public static partial void OverMemoryBudget(ILogger logger, long rejected, long held, long budget, double intervalSeconds);
}
