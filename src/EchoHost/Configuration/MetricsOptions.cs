namespace EchoHost.Configuration;

/// <summary>The <c>Metrics</c> configuration section.</summary>
public sealed record MetricsOptions
{
    public const string SectionName = "Metrics";

    public const string EnabledKey = SectionName + ":" + nameof(Enabled);

    /// <summary>Whether <c>/metrics</c> is served on the health port and OTLP export may run.</summary>
    public bool Enabled { get; init; } = true;
}
