using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary>
/// A second protocol on the real host, registered as ARCHITECTURE.md shows (samples/UpperCaseHost): its own port,
/// limit, accept gate, start-up line, metrics and bind-failure text, next to echo, on whichever transport
/// <c>Transport__Kind</c> names.
/// </summary>
[Collection(SerialTests.Name)]
public sealed partial class SecondProtocolTests
{
    private const string Program = "UpperCaseHost.dll";
    private const int Clients = 1000;

    [Fact]
    public async Task The_upper_listener_holds_1000_connections_next_to_echo_and_turns_away_the_next_one_by_its_own_limit()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Upper:Port=0", $"--Upper:MaxConnections={Clients}"], program: Program);
        var upper = await host.WaitForListenerAsync("Upper");
        var echo = await host.WaitForEchoListenerAsync();
        using var http = new HttpClient { BaseAddress = await host.WaitForHealthListenerAsync(), Timeout = TimeSpan.FromSeconds(10) };
        var descriptorsBefore = host.OpenDescriptors();
        var clients = new List<EchoClient>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(upper));
            }

            await Task.WhenAll(clients.Select(async (client, i) =>
            {
                await client.SendAsync(Encoding.ASCII.GetBytes($"hello {i}\n"));
                Assert.Equal($"HELLO {i}\n", await client.ReceiveTextAsync($"HELLO {i}\n"));
            }));

            await using (var over = await EchoClient.ConnectAsync(upper))
            {
                Assert.Equal(ConnectionEnd.Fin, (await over.ReceiveToEndAsync()).End);
            }

            await using (var echoClient = await EchoClient.ConnectAsync(echo))
            {
                await echoClient.SendAsync("still here\n"u8.ToArray());
                Assert.Equal("Echoed back: still here\n", await echoClient.ReceiveTextAsync("Echoed back: still here\n"));
            }

            Assert.True(host.OpenDescriptors() - descriptorsBefore >= Clients, $"the host holds {host.OpenDescriptors() - descriptorsBefore} more descriptors with {Clients} clients");
            // The exporter caches a scrape for a moment, and the rejection is counted just after its FIN.
            string metrics;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            do
            {
                metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                await Task.Delay(100);
            }
            while (Value(metrics, "echohost_upper_connections_rejected_total", "max_connections") != 1 && DateTime.UtcNow < deadline);

            Assert.Equal(Clients, Value(metrics, "echohost_upper_connections_active"));
            Assert.Equal(Clients, Value(metrics, "echohost_upper_connections_opened_total"));
            Assert.Equal(1, Value(metrics, "echohost_upper_connections_rejected_total", "max_connections"));
            Assert.Equal(0, Value(metrics, "echohost_connections_rejected_total", "max_connections"));
            await host.WaitForOutputAsync(l => l.Contains("Rejected 1 connection(s) over Upper:MaxConnections=1000", StringComparison.Ordinal));
            Assert.True(host.StandardOutput.Count(l => l.Contains("Connection from 127.0.0.1:", StringComparison.Ordinal)) >= Clients);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_taken_upper_port_names_the_upper_listener_and_its_setting()
    {
        using var taken = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        taken.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        using var host = HostProcess.StartOnEphemeralPorts([$"--Upper:Port={port}"], program: Program);

        Assert.Equal(1, await host.WaitForExitAsync());
        Assert.Equal(
            $"EchoHost cannot start. The upper listener (Upper:Port) cannot bind [::]:{port}: address already in use; stop what uses it, or choose another port with --Upper:Port=PORT.",
            Assert.Single(host.StandardError));
    }

    [Theory]
    [InlineData("--Upper:MaxConnections=lots", "Upper:MaxConnections is 'lots'")]
    [InlineData("--Upper:MaxConection=5", "Upper:MaxConection is not a setting; did you mean Upper:MaxConnections?")]
    [InlineData("--Uper:Port=7001", "Uper:Port is set, but EchoHost has no Uper section; did you mean Upper?")]
    public async Task A_bad_upper_setting_stops_the_start_with_one_line_naming_it(string setting, string message)
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Upper:Port=0", setting], program: Program);

        Assert.Equal(2, await host.WaitForExitAsync());
        var line = Assert.Single(host.StandardError);
        Assert.StartsWith("EchoHost cannot start. Invalid configuration: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    private static long Value(string metrics, string name, string? reason = null)
    {
        var labels = reason is null ? @"\{[^}]*\}" : $@"\{{[^}}]*reason=""{reason}""[^}}]*\}}";
        var match = Regex.Match(metrics, $@"^{name}{labels} (\d+)", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }
}
