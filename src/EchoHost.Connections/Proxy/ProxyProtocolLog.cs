using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Proxy;

internal static partial class ProxyProtocolLog
{
    // Information, not Warning: a scanner or a misconfigured balancer would otherwise flood the warnings.
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Closed connection from {Peer} without a reply: {Problem}")]
    public static partial void Rejected(ILogger logger, string peer, string problem);
}
