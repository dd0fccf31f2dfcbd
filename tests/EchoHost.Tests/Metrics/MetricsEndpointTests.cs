using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Metrics;

/// <summary>The Prometheus endpoint on the health port, scraped after a known workload.</summary>
public sealed partial class MetricsEndpointTests
{
    // A host process of its own: OpenTelemetry's meter listeners are process-wide, and the in-process hosts of
    // other tests running at the same time would share them.
    [Fact]
    public async Task After_a_known_workload_every_series_moved_by_exactly_that_much()
    {
        using var process = HostProcess.StartOnEphemeralPorts(["--Echo:MaxConnections=3", "--Echo:IdleTimeout=00:00:05"]);
        var echo = await process.WaitForEchoListenerAsync();
        using var http = new HttpClient { BaseAddress = await process.WaitForHealthListenerAsync(), Timeout = TimeSpan.FromSeconds(10) };

        await using var first = await EchoClient.ConnectAsync(echo);
        await using var second = await EchoClient.ConnectAsync(echo);
        await using var idle = await EchoClient.ConnectAsync(echo);
        await first.SendAsync("a\nb\n");
        Assert.Equal("Echoed back: a\nEchoed back: b\n", await first.ReceiveTextAsync("Echoed back: a\nEchoed back: b\n"));
        await second.SendAsync("hello\n");
        Assert.Equal("Echoed back: hello\n", await second.ReceiveTextAsync("Echoed back: hello\n"));
        await Eventually.TrueAsync(() => process.StandardOutput.Count(m => m.Contains("Connection from", StringComparison.Ordinal)) >= 3);

        await using var rejected = await EchoClient.ConnectAsync(echo);
        Assert.Equal(ConnectionEnd.Fin, (await rejected.ReceiveToEndAsync()).End);

        first.HalfClose();
        second.HalfClose();
        await first.ReceiveToEndAsync();
        await second.ReceiveToEndAsync();
        Assert.Equal(ConnectionEnd.Fin, (await idle.ReceiveToEndAsync()).End);

        var expected = new Dictionary<string, double>
        {
            ["echohost_connections_opened_total"] = 3,
            ["echohost_connections_active"] = 0,
            ["echohost_connections_closed_total{reason=\"peer_closed\"}"] = 2,
            ["echohost_connections_closed_total{reason=\"idle_timeout\"}"] = 1,
            ["echohost_connections_rejected_total{reason=\"max_connections\"}"] = 1,
            ["echohost_messages_received_total"] = 3,
            ["echohost_received_bytes_total"] = 10,
            ["echohost_sent_bytes_total"] = 49,
            ["echohost_connection_duration_seconds_count"] = 3,
            ["echohost_build_info{version=\"1.0.0\"}"] = 1,
            ["echohost_health_connections_evicted_total"] = 0,
            ["echohost_connections_limit"] = 3,
        };
        // The exporter caches a scrape for a moment, and the last connection's close is counted just after its FIN.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        Dictionary<string, double> series;
        do
        {
            series = Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            await Task.Delay(100);
        }
        while (!expected.All(e => series.TryGetValue(e.Key, out var value) && value == e.Value) && DateTime.UtcNow < deadline);

        Assert.True(expected.All(e => series.GetValueOrDefault(e.Key, double.NaN) == e.Value), "Scraped: " + string.Join("; ", series.Where(s => s.Key.StartsWith("echohost", StringComparison.Ordinal)).Select(s => $"{s.Key}={s.Value}")));
        Assert.Contains(series.Keys, k => k.StartsWith("kestrel_active_connections", StringComparison.Ordinal));
        Assert.Contains(series.Keys, k => k.StartsWith("dotnet_gc_", StringComparison.Ordinal) || k.StartsWith("process_runtime_dotnet_gc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_can_be_turned_off_and_the_echo_port_never_serves_them()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Metrics:Enabled"] = "false" });
        using var http = host.CreateHealthClient();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);

        await using var echo = await host.ConnectAsync();
        await echo.SendAsync("GET /metrics HTTP/1.1\r\n");
        Assert.Equal("Echoed back: GET /metrics HTTP/1.1\r\n", await echo.ReceiveTextAsync("Echoed back: GET /metrics HTTP/1.1\r\n"));
    }

    [Fact]
    public async Task Openmetrics_is_served_when_the_scraper_asks_for_it()
    {
        using var host = EchoHostFactory.Start();
        using var http = host.CreateHealthClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");

        using var response = await http.SendAsync(request);

        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_export_runs_only_when_the_standard_variable_names_a_collector()
    {
        await using var collector = await OtlpCollector.StartAsync();
        using var process = HostProcess.StartOnEphemeralPorts(environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        await process.WaitForEchoListenerAsync();

        await Eventually.TrueAsync(() => collector.MetricsPosts > 0);
        Assert.Contains("echohost.connections.opened", collector.LastBody, StringComparison.Ordinal);
    }

    // Series name plus labels other than otel_scope_name, to value.
    private static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>();
        foreach (Match match in SampleLine().Matches(text))
        {
            var labels = string.Join(",", match.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)));
            var key = match.Groups["name"].Value + (labels.Length > 0 ? "{" + labels + "}" : string.Empty);
            series[key] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return series;
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
