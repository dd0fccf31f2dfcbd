using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

public sealed class StartupErrorTests
{
    [Theory]
    [InlineData("Echo:Port", "The echo listener (Echo:Port)")]
    [InlineData("Health:Port", "The health listener (Health:Port)")]
    public async Task A_port_in_use_exits_1_with_one_line_naming_the_listener_address_and_port(string key, string listener)
    {
        using var occupier = new TcpListener(IPAddress.IPv6Any, 0);
        occupier.Server.DualMode = true;
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;

        using var host = HostProcess.StartOnEphemeralPorts([$"--{key}={port}"]);

        Assert.Equal(1, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.Equal($"EchoHost cannot start. {listener} cannot bind [::]:{port}: address already in use.", message);
        Assert.DoesNotContain(host.StandardOutput, line => line.Contains(" at ", StringComparison.Ordinal));
    }
}
