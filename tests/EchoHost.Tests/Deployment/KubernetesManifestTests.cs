using System.Net;
using EchoHost.Configuration;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace EchoHost.Tests.Deployment;

/// <summary>
/// The manifests in deploy/kubernetes agree with the application: the ports it binds with the settings the
/// ConfigMap gives it, the paths it serves, and a drain that fits in the grace period.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly YamlMappingNode Deployment = Load("deploy/kubernetes/deployment.yaml");
    private static readonly YamlMappingNode Service = Load("deploy/kubernetes/service.yaml");
    private static readonly YamlMappingNode PodSpec = Map(Deployment, "spec", "template", "spec");
    private static readonly YamlMappingNode Container = (YamlMappingNode)((YamlSequenceNode)PodSpec["containers"]).Single();

    private static readonly EchoHostSettings ProductionSettings = SettingsReader.Read(new ConfigurationBuilder()
        .AddJsonFile(RepositoryFiles.PathOf("appsettings.json"))
        .AddJsonFile(RepositoryFiles.PathOf("deploy/kubernetes/appsettings.Production.json"))
        .Build());

    [Fact]
    public void Container_ports_are_the_ports_the_host_binds_in_production()
    {
        Assert.Equal(ProductionSettings.Echo.Port, ContainerPort("echo"));
        Assert.Equal(ProductionSettings.Health.Port, ContainerPort("health"));
    }

    [Fact]
    public void The_service_targets_named_container_ports_on_the_same_numbers()
    {
        foreach (var port in ((YamlSequenceNode)Map(Service, "spec")["ports"]).Cast<YamlMappingNode>())
        {
            var target = Text(port, "targetPort");
            Assert.Equal(ContainerPort(target), int.Parse(Text(port, "port"), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("startupProbe", "/healthz")]
    [InlineData("livenessProbe", "/healthz")]
    [InlineData("readinessProbe", "/readyz")]
    public async Task Probes_use_paths_the_health_port_serves(string probe, string path)
    {
        var httpGet = Map(Container, probe, "httpGet");
        Assert.Equal(path, Text(httpGet, "path"));
        Assert.Equal("health", Text(httpGet, "port"));

        using var host = EchoHostFactory.Start();
        using var http = host.CreateHealthClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(path, UriKind.Relative))).StatusCode);
    }

    [Fact]
    public void The_drain_fits_in_the_grace_period()
    {
        var grace = TimeSpan.FromSeconds(int.Parse(Text(PodSpec, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture));
        var preStop = TimeSpan.FromSeconds(int.Parse(Text(Map(Container, "lifecycle", "preStop", "sleep"), "seconds"), System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(preStop >= TimeSpan.FromSeconds(2), "endpoints need a few seconds to stop routing new connections");
        Assert.True(
            preStop + ProductionSettings.ShutdownTimeout + TimeSpan.FromSeconds(2) <= grace,
            $"preStop {preStop} + HostOptions:ShutdownTimeout {ProductionSettings.ShutdownTimeout} does not fit in {grace}");
    }

    [Fact]
    public async Task The_configmaps_settings_start_the_host_with_json_logs()
    {
        using var copy = HostDirectory.Create();
        copy.Write("appsettings.Production.json", RepositoryFiles.Read("deploy/kubernetes/appsettings.Production.json"));
        using var host = HostProcess.StartOnEphemeralPorts(
            environment: new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production" },
            hostDirectory: copy.Path);

        var line = await host.WaitForOutputAsync(l => l.Contains("\"@mt\":\"{Listener} listener serving on {EndPoint} ({Speaks})\"", StringComparison.Ordinal));
        Assert.StartsWith("{", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pod_runs_as_the_images_non_root_app_user_with_a_locked_down_container()
    {
        // 1654 is APP_UID, the 'app' user of the .NET 8+ images, chiseled ones included.
        Assert.Equal("1654", Text(Map(PodSpec, "securityContext"), "runAsUser"));
        Assert.Equal("true", Text(Map(PodSpec, "securityContext"), "runAsNonRoot"));
        var container = Map(Container, "securityContext");
        Assert.Equal("true", Text(container, "readOnlyRootFilesystem"));
        Assert.Equal("false", Text(container, "allowPrivilegeEscalation"));
        Assert.Equal("ALL", ((YamlSequenceNode)Map(container, "capabilities")["drop"]).Single().ToString());
    }

    [Fact]
    public async Task The_scrape_settings_name_the_health_port_and_the_path_it_serves_metrics_on()
    {
        var annotations = Map(Deployment, "spec", "template", "metadata", "annotations");
        Assert.Equal(ContainerPort("health").ToString(System.Globalization.CultureInfo.InvariantCulture), Text(annotations, "prometheus.io/port"));
        var endpoint = (YamlMappingNode)((YamlSequenceNode)Map(Load("deploy/kubernetes/components/prometheus-operator/pod-monitor.yaml"), "spec")["podMetricsEndpoints"]).Single();
        Assert.Equal("health", Text(endpoint, "port"));
        Assert.Equal(Text(annotations, "prometheus.io/path"), Text(endpoint, "path"));

        using var host = EchoHostFactory.Start();
        using var http = host.CreateHealthClient();
        using var response = await http.GetAsync(new Uri(Text(endpoint, "path"), UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_keda_trigger_scales_on_a_series_the_host_exports_below_its_connection_limit()
    {
        var trigger = (YamlMappingNode)((YamlSequenceNode)Map(Load("deploy/kubernetes/components/keda/scaled-object.yaml"), "spec")["triggers"]).Single();
        var metadata = Map(trigger, "metadata");
        Assert.Contains("echohost_connections_active", Text(metadata, "query"), StringComparison.Ordinal);
        Assert.True(int.Parse(Text(metadata, "threshold"), System.Globalization.CultureInfo.InvariantCulture) < ProductionSettings.Echo.MaxConnections);
    }

    [Fact]
    public void The_memory_limit_fits_base_plus_connections_plus_budget_for_the_configmaps_settings()
    {
        const long BaseBytes = 74L * 1024 * 1024;
        const long IdleConnectionBytes = 11L * 1024;
        var limit = Text(Map(Container, "resources", "limits"), "memory");
        Assert.EndsWith("Mi", limit, StringComparison.Ordinal);
        var limitBytes = long.Parse(limit[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1024 * 1024;
        var echo = ProductionSettings.Echo;

        Assert.NotNull(echo.MemoryBudget);
        Assert.True(
            BaseBytes + (echo.MaxConnections * IdleConnectionBytes) + echo.MemoryBudget!.Value <= limitBytes * 9 / 10,
            $"{echo.MaxConnections} connections and a {echo.MemoryBudget} budget do not fit in {limit} with 10% to spare");
    }

    private static int ContainerPort(string name) =>
        int.Parse(
            Text(((YamlSequenceNode)Container["ports"]).Cast<YamlMappingNode>().Single(p => Text(p, "name") == name), "containerPort"),
            System.Globalization.CultureInfo.InvariantCulture);

    private static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(RepositoryFiles.Read(relative)));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => (YamlMappingNode)current[key]);

    private static string Text(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;
}
