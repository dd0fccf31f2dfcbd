using Microsoft.Extensions.Logging;

namespace EchoHost.Protocol.Connections;

internal static partial class EchoConnectionLog
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Connection from {Peer}")]
    public static partial void ConnectionFrom(ILogger logger, string peer);

    // A peer that resets is routine on the internet and for probes: worth a trace, not an alarm.
    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Connection from {Peer} ended abruptly: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string peer, string? reason);

    [LoggerMessage(
        EventId = 12,
        Level = LogLevel.Information,
        Message = "Connection from {Peer} closed: {BytesIn} bytes in, {BytesOut} bytes out, {DurationSeconds:0.000} s")]
    public static partial void ConnectionClosed(ILogger logger, string peer, long bytesIn, long bytesOut, double durationSeconds);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Connection from {Peer} sent nothing for {IdleTimeout}: closing it")]
    public static partial void ConnectionIdle(ILogger logger, string peer, string idleTimeout);

    [LoggerMessage(
        EventId = 14,
        Level = LogLevel.Warning,
        Message = "Rejected {Rejected} connection(s) over Echo:MaxConnections={MaxConnections} (reported at most once per {IntervalSeconds} s)")]
    public static partial void ConnectionsRejected(ILogger logger, long rejected, int maxConnections, double intervalSeconds);
}
