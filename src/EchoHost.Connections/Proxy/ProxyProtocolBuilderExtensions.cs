using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Proxy;

public static class ProxyProtocolBuilderExtensions
{
    /// <summary>
    /// Requires a PROXY protocol v1 or v2 header on every connection; put it before TLS (balancers send it in
    /// clear) and before lifetime logging (so that logs name the real client).
    /// </summary>
    /// <param name="timeout">How long a connection may take to send its whole header.</param>
    /// <param name="trustedNetworks">The peers whose headers are believed; empty for any peer.</param>
    public static IConnectionBuilder UseProxyProtocol(
        this IConnectionBuilder builder, TimeSpan timeout, IReadOnlyList<System.Net.IPNetwork>? trustedNetworks = null, ConnectionMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.ApplicationServices;
        var time = services.Clock();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProxyProtocolMiddleware).FullName!);
        var trust = new ProxyTrust(trustedNetworks ?? [], time);
        return builder.Use(next => new ProxyProtocolMiddleware(next, timeout, trust, time, metrics, logger).OnConnectionAsync);
    }
}
