using EchoHost.Echo;

namespace EchoHost.Configuration;

/// <summary>Every setting the host reads, parsed and validated as one.</summary>
/// <param name="Echo">The <c>Echo</c> section.</param>
/// <param name="Health">The <c>Health</c> section.</param>
/// <param name="ShutdownTimeout"><c>HostOptions:ShutdownTimeout</c>: how long shutdown waits for connections to close.</param>
/// <param name="Metrics">The <c>Metrics</c> section.</param>
/// <param name="Transport">The <c>Transport</c> section.</param>
public sealed record EchoHostSettings(EchoOptions Echo, HealthOptions Health, TimeSpan ShutdownTimeout, MetricsOptions Metrics, Transport.TransportOptions Transport)
{
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);
}
