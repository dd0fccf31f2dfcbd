using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary><c>dotnet EchoHost.dll probe</c>, the container health check that needs no shell or curl.</summary>
public sealed class ProbeTests
{
    [Fact]
    public async Task Reports_healthy_and_exits_0_when_the_host_answers_on_both_ports()
    {
        var (echoPort, healthPort) = (FreePort(), FreePort());
        using var host = HostProcess.Start([$"--Echo:Port={echoPort}", $"--Health:Port={healthPort}"]);
        await host.WaitForEchoListenerAsync();

        using var probe = HostProcess.Start(["probe", $"--Echo:Port={echoPort}", $"--Health:Port={healthPort}"]);

        Assert.Equal(0, await probe.WaitForExitAsync());
        Assert.Equal(
            $"healthy: http://127.0.0.1:{healthPort}/healthz answered 200 and 127.0.0.1:{echoPort} accepts connections",
            Assert.Single(probe.StandardOutput));
    }

    [Fact]
    public async Task Reports_unhealthy_and_exits_1_when_nothing_answers()
    {
        using var probe = HostProcess.Start(["probe", $"--Echo:Port={FreePort()}", $"--Health:Port={FreePort()}"]);

        Assert.Equal(1, await probe.WaitForExitAsync());
        Assert.StartsWith("unhealthy: ", Assert.Single(probe.StandardOutput), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Echo:Port=0", "EchoHost probe cannot run: it needs fixed ports")]
    [InlineData("--Echo:Mode=Shout", "EchoHost probe cannot run. Invalid configuration: Echo:Mode is 'Shout'")]
    public async Task Exits_2_with_one_line_when_it_cannot_know_where_to_look(string argument, string expected)
    {
        using var probe = HostProcess.Start(["probe", argument]);

        Assert.Equal(2, await probe.WaitForExitAsync());
        Assert.StartsWith(expected, Assert.Single(probe.StandardError), StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
