using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Logging;

internal static partial class ConnectionLifetimeLog
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

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Connection from {Peer} sent nothing for {IdleTimeout:c}: closing it")]
    public static partial void ConnectionIdle(ILogger logger, string peer, TimeSpan idleTimeout);

    [LoggerMessage(
        EventId = 15,
        Level = LogLevel.Information,
        Message = "Connection from {Peer} read none of its replies for {WriteTimeout:c}: aborting it ({BytesIn} bytes in, {BytesOut} bytes out)")]
    public static partial void WriteTimedOut(ILogger logger, string peer, TimeSpan writeTimeout, long bytesIn, long bytesOut);
}
