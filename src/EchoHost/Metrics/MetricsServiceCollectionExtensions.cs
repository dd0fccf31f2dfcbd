using EchoHost.Configuration;
using EchoHost.Echo;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoHost.Metrics;

public static class MetricsServiceCollectionExtensions
{
    private const string PrometheusPath = "/metrics";

    /// <summary>
    /// OpenTelemetry metrics: EchoHost's own meter, Kestrel's, and the runtime's; read by the Prometheus exporter
    /// at <c>/metrics</c> on the health listener, and pushed over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// names a collector. The Prometheus exporter is a pre-release package (pinned in Directory.Packages.props):
    /// its text output is what Prometheus itself parses in the end-to-end test, and OTLP is the stable path.
    /// </summary>
    public static IServiceCollection AddEchoHostMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        if (!MetricsEnabled(configuration))
        {
            return services;
        }

        services.AddSingleton<BuildInfo>();

        // The service, its version and the pod (the host name Kubernetes gives it) on target_info and in OTLP.
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                "echohost", serviceVersion: BuildInfo.Version, autoGenerateServiceInstanceId: false, serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
        {
            metrics
                .AddMeter(EchoMetrics.MeterName)
                .AddMeter(BuildInfo.MeterName)
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel")
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter();
            if (!string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            {
                metrics.AddOtlpExporter();
            }
        });
        return services;
    }

    /// <summary><c>GET /metrics</c>, only on <c>Health:Port</c>: the echo port never speaks HTTP.</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetRequiredService<EchoHostSettings>().Metrics.Enabled)
        {
            // Made now, so the build-info series is there from the first scrape.
            endpoints.ServiceProvider.GetRequiredService<BuildInfo>();
            endpoints.MapPrometheusScrapingEndpoint(PrometheusPath);
        }

        return endpoints;
    }

    // Registration comes before the validated settings exist, so this one reads the key itself; an unreadable value
    // counts as on here, and SettingsReader reports it and stops the host before it listens.
    private static bool MetricsEnabled(IConfiguration configuration) =>
        !bool.TryParse(configuration[MetricsOptions.EnabledKey], out var enabled) || enabled;
}
