using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Protocols;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Echo;

/// <summary>One <see cref="EchoProtocol"/> per connection, sharing the listener's behavior, metrics and logger.</summary>
public sealed class EchoProtocolFactory(EchoBehavior behavior, EchoMetrics metrics, ILogger<EchoProtocol> logger) : IConnectionProtocolFactory
{
    public IConnectionProtocol Create(ConnectionContext connection) => new EchoProtocol(behavior, metrics.Connections, logger);
}
