using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Proxy;

internal static partial class ProxyProtocolLog
{
    // Information, not Warning: a scanner or a misconfigured balancer would otherwise flood the warnings.
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Closed connection from {Peer} without a reply: {Problem}")]
    public static partial void Rejected(ILogger logger, string peer, string problem);

    [LoggerMessage(
        EventId = 21,
        Level = LogLevel.Warning,
        Message = "Closed {Count} connection(s) from {Peer} unread: not a trusted proxy (Echo:ProxyProtocolTrustedNetworks); reported at most once per {IntervalSeconds} s per peer")]
    public static partial void Untrusted(ILogger logger, long count, string peer, double intervalSeconds);
}
