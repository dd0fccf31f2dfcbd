using System.Diagnostics.Metrics;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;

namespace EchoHost.Echo;

/// <summary>
/// The echo listener's instruments on the <c>EchoHost</c> meter (<c>echohost_*</c> in Prometheus), with the
/// connection limit in force as <c>echohost_connections_limit</c>, so that an alert can compare the open connections
/// with it (the limit may be lower than <c>Echo:MaxConnections</c> when the descriptor limit does not fit that many).
/// </summary>
public sealed class EchoMetrics
{
    public const string MeterName = "EchoHost";

    public EchoMetrics(IMeterFactory meterFactory, ConnectionCounter limit)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(limit);
        var meter = meterFactory.Create(MeterName);
        Connections = new ConnectionMetrics(meter, "echohost");
        meter.CreateObservableGauge("echohost.connections.limit", () => limit.Limit, "{connection}", "Echo connections admitted at most at once.");
    }

    public ConnectionMetrics Connections { get; }
}
