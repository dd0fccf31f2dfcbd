using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

public sealed class HealthEndpointTests : IClassFixture<EchoListenerTests.DefaultHost>
{
    private readonly EchoHostFactory _host;

    public HealthEndpointTests(EchoListenerTests.DefaultHost host) => _host = host.Factory;

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Answers_200_on_the_health_port(string path)
    {
        using var http = _host.CreateHealthClient();

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Other_paths_are_not_found()
    {
        using var http = _host.CreateHealthClient();

        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_health_port_never_echoes()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _host.HealthUri.Port);
        await socket.SendAsync("Hello, World!\r\n\r\n"u8.ToArray());

        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);

        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        Assert.StartsWith("HTTP/1.1 400", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("Echoed back", reply, StringComparison.Ordinal);
    }
}
