using System.Diagnostics.Metrics;
using EchoHost.Connections.Diagnostics;

namespace EchoHost.Echo;

/// <summary>The echo listener's instruments on the <c>EchoHost</c> meter (<c>echohost_*</c> in Prometheus).</summary>
public sealed class EchoMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "EchoHost";

    public ConnectionMetrics Connections { get; } = new(meterFactory.Create(MeterName), "echohost");
}
