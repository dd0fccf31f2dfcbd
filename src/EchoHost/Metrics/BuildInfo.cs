using System.Diagnostics.Metrics;
using System.Reflection;

namespace EchoHost.Metrics;

/// <summary>
/// <c>echohost_build_info{version="…"} 1</c>: which build each pod runs, so a dashboard or an alert can tell the
/// pods of a rolling update apart.
/// </summary>
internal sealed class BuildInfo : IDisposable
{
    public const string MeterName = "EchoHost.Build";

    private readonly Meter _meter = new(MeterName);

    public BuildInfo()
    {
        var version = new KeyValuePair<string, object?>("version", Version);
        _meter.CreateObservableGauge("echohost_build_info", () => new Measurement<int>(1, version), description: "Always 1; the version label names the build.");
    }

    public static string Version { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public void Dispose() => _meter.Dispose();
}
