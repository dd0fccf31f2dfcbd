using System.Text;
using System.Text.Json;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary>The published-style host in its own process: start-up errors, precedence, signals.</summary>
public sealed class ProcessTests
{
    [Theory]
    [InlineData("--Echo:Port=70000", "Echo:Port is '70000'")]
    [InlineData("--Echo:Port=abc", "Echo:Port is 'abc'")]
    [InlineData("--Health:Port=-1", "Health:Port is '-1'")]
    [InlineData("--Echo:Mode=Shout", "Echo:Mode is 'Shout'; expected one of Echo, Receive")]
    [InlineData("--Echo:Framing=Words", "Echo:Framing is 'Words'; expected one of Line, Chunk")]
    [InlineData("--Echo:MaxLineBytes=0", "Echo:MaxLineBytes is '0'")]
    [InlineData("--Echo:IdleTimeout=-00:00:01", "Echo:IdleTimeout is '-00:00:01'")]
    [InlineData("--Echo:CloseAfterReply=sometimes", "Echo:CloseAfterReply is 'sometimes'")]
    [InlineData("--Echo:Address=not-an-ip", "Echo:Address is 'not-an-ip'")]
    [InlineData("--Echo:MaxConnections=0", "Echo:MaxConnections is '0'")]
    [InlineData("--Echo:Prot=9000", "Echo:Prot is not a setting; did you mean Echo:Port?")]
    [InlineData("--Helth:Port=9001", "Helth:Port is set, but EchoHost has no Helth section; did you mean Health?")]
    [InlineData("--Echoo:Port=9000", "Echoo:Port is set, but EchoHost has no Echoo section; did you mean Echo?")]
    [InlineData("--HostOptions:ShutdownTimout=5s", "HostOptions:ShutdownTimout is not a setting; did you mean HostOptions:ShutdownTimeout?")]
    [InlineData("--Transport:Kind=Epoll", "Transport:Kind is 'Epoll'; expected one of Sockets, Linux, IoUring, Auto")]
    [InlineData("--Transport:Threads=0", "Transport:Threads is '0'")]
    [InlineData("--Echo:ProxyProtocolTrustedNetworks=10.0.0.0/8,10.1.0.0/8", "Echo:ProxyProtocolTrustedNetworks has '10.1.0.0/8': not a network")]
    [InlineData("--Echo:ProxyProtocolTrustedNetworks=balancer", "Echo:ProxyProtocolTrustedNetworks has 'balancer': not an IP address or a network in CIDR form")]
    public async Task Invalid_settings_stop_the_process_with_one_clear_message(string argument, string expected)
    {
        using var host = HostProcess.Start(["--Echo:Port=0", "--Health:Port=0", argument]);

        Assert.Equal(2, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.StartsWith("EchoHost cannot start. Invalid configuration: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(host.StandardOutput, line => line.Contains("serving on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Equal_ports_are_rejected_naming_both_keys()
    {
        using var host = HostProcess.Start(["--Echo:Port=18888", "--Health:Port=18888"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        Assert.Contains("Health:Port is '18888', the same as Echo:Port", Assert.Single(host.StandardError), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_problem_is_reported_at_once()
    {
        using var host = HostProcess.Start(["--Echo:Port=x", "--Echo:Mode=y"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.Contains("Echo:Port is 'x'", message, StringComparison.Ordinal);
        Assert.Contains("Echo:Mode is 'y'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_environment_variable_overrides_appsettings()
    {
        using var host = HostProcess.StartOnEphemeralPorts(environment: new Dictionary<string, string> { ["Echo__ReplyPrefix"] = "env: " });

        Assert.Equal("env: hi\n", await RoundTripAsync(host, "hi\n"));
    }

    [Fact]
    public async Task The_command_line_overrides_environment_variables()
    {
        using var host = HostProcess.StartOnEphemeralPorts(
            ["--Echo:ReplyPrefix=cli: "],
            new Dictionary<string, string> { ["Echo__ReplyPrefix"] = "env: " });

        Assert.Equal("cli: hi\n", await RoundTripAsync(host, "hi\n"));
    }

    [Fact]
    public async Task The_environments_appsettings_file_overrides_appsettings_json_and_yields_to_variables()
    {
        using var copy = HostDirectory.Create();
        copy.Write("appsettings.Staging.json", """{ "Echo": { "ReplyPrefix": "staging: ", "Framing": "Chunk" } }""");
        var staging = new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Staging" };

        using (var host = HostProcess.StartOnEphemeralPorts(environment: staging, hostDirectory: copy.Path))
        {
            Assert.Equal("staging: no newline", await RoundTripAsync(host, "no newline"));
        }

        staging["Echo__ReplyPrefix"] = "env: ";
        using (var host = HostProcess.StartOnEphemeralPorts(environment: staging, hostDirectory: copy.Path))
        {
            Assert.Equal("env: no newline", await RoundTripAsync(host, "no newline"));
        }
    }

    [Theory]
    [InlineData]
    [InlineData("probe")]
    public async Task A_settings_file_that_is_not_json_stops_the_server_and_the_probe_with_one_line_naming_it(params string[] command)
    {
        using var copy = HostDirectory.Create();
        copy.Write("appsettings.Production.json", "{ \"Echo\": { \"MaxConnections\": 100, } },\n");

        string[] arguments = command.Length == 0 ? ["--Echo:Port=0", "--Health:Port=0"] : command;
        using var host = HostProcess.Start(arguments, new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production" }, copy.Path);

        Assert.Equal(2, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.StartsWith("EchoHost cannot start. Invalid configuration: Failed to load configuration from file", message, StringComparison.Ordinal);
        Assert.Contains("appsettings.Production.json", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_prefix_from_the_environment_makes_a_pure_echo()
    {
        using var host = HostProcess.StartOnEphemeralPorts(environment: new Dictionary<string, string> { ["Echo__ReplyPrefix"] = "" });

        Assert.Equal("hi\n", await RoundTripAsync(host, "hi\n"));
    }

    [Fact]
    public async Task Appsettings_next_to_the_dll_are_read_from_any_working_directory()
    {
        using var host = HostProcess.StartOnEphemeralPorts();

        // The console sink and its template exist only in appsettings.json.
        var line = await host.WaitForOutputAsync(l => l.Contains("Echo listener serving on", StringComparison.Ordinal));
        Assert.Matches(@"^\[\d\d:\d\d:\d\d INF\] Echo listener serving on ", line);
        Assert.Equal("Echoed back: hi\n", await RoundTripAsync(host, "hi\n"));
    }

    [Fact]
    public async Task Compact_json_logging_is_one_environment_variable_away()
    {
        using var host = HostProcess.StartOnEphemeralPorts(environment: new Dictionary<string, string>
        {
            ["Serilog__WriteTo__0__Args__configure__0__Args__formatter"] = "Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
        });

        var line = await host.WaitForOutputAsync(l => l.Contains("\"Listener\":\"Echo\"", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("{Listener} listener serving on {EndPoint} ({Speaks})", json.RootElement.GetProperty("@mt").GetString());
        Assert.Equal("raw TCP", json.RootElement.GetProperty("Speaks").GetString());
        Assert.Matches(@":\d+$", json.RootElement.GetProperty("EndPoint").GetString());
    }

    [Fact]
    public async Task A_file_sink_added_from_the_command_line_is_found_among_the_shipped_sinks()
    {
        var directory = Directory.CreateTempSubdirectory("echohost-log-");
        try
        {
            var logFile = Path.Combine(directory.FullName, "echohost.log");
            using (var host = HostProcess.StartOnEphemeralPorts(["--Serilog:WriteTo:1:Name=File", $"--Serilog:WriteTo:1:Args:path={logFile}"]))
            {
                await host.WaitForEchoListenerAsync();
                host.Signal("TERM");
                Assert.Equal(0, await host.WaitForExitAsync());
            }

            Assert.Contains("Echo listener serving on", await File.ReadAllTextAsync(logFile), StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_official_images_http_ports_variable_is_ignored_without_a_warning()
    {
        using var host = HostProcess.StartOnEphemeralPorts(environment: new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "8080" });

        await host.WaitForOutputAsync(l => l.EndsWith("Ignored ASPNETCORE_HTTP_PORTS=8080: the health listener binds Health:Port only", StringComparison.Ordinal));
        await host.WaitForEchoListenerAsync();
        Assert.DoesNotContain(host.StandardOutput, line => line.Contains(" WRN]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_closes_open_connections_with_fin_and_exits_zero(string signal)
    {
        using var host = HostProcess.StartOnEphemeralPorts();
        var endPoint = await host.WaitForEchoListenerAsync();
        await using var client = await EchoClient.ConnectAsync(endPoint);
        await client.SendAsync("line\npartial");
        await client.ReceiveTextAsync("Echoed back: line\n");

        host.Signal(signal);

        var (data, end) = await client.ReceiveToEndAsync();
        Assert.Equal("Echoed back: partial", Encoding.UTF8.GetString(data));
        Assert.Equal(ConnectionEnd.Fin, end);
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Empty(host.StandardError);
    }

    private static async Task<string> RoundTripAsync(HostProcess host, string line)
    {
        await using var client = await EchoClient.ConnectAsync(await host.WaitForEchoListenerAsync());
        await client.SendAsync(line);
        client.HalfClose();
        var (data, _) = await client.ReceiveToEndAsync();
        return Encoding.UTF8.GetString(data);
    }
}
