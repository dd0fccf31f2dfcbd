using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;

namespace EchoHost.Health;

/// <summary>
/// <c>EchoHost probe</c> (or <c>dotnet EchoHost.dll probe</c>): asks a running host on this machine whether it is healthy, for container
/// health checks in images that have no shell or curl. Healthy means <c>/healthz</c> answers 200 and the echo
/// port accepts a connection (which it then closes without sending anything, like a Kubernetes tcpSocket probe).
/// </summary>
public static class HealthProbe
{
    public const string Command = "probe";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <returns>
    /// 0 when healthy, 1 when not, with one line on <paramref name="output"/> saying why; 2 when the settings are
    /// invalid or name ephemeral ports a probe cannot find, with one line on <paramref name="error"/>.
    /// </returns>
    public static async Task<int> RunAsync(IConfiguration configuration, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        EchoHostSettings settings;
        try
        {
            settings = SettingsReader.Read(configuration);
        }
        catch (InvalidSettingsException ex)
        {
            await error.WriteLineAsync($"EchoHost probe cannot run. {ex.Message}");
            return 2;
        }

        if (settings.Echo.Port == 0 || settings.Health.Port == 0)
        {
            await error.WriteLineAsync("EchoHost probe cannot run: it needs fixed ports, and Echo:Port or Health:Port is 0.");
            return 2;
        }

        var echo = new IPEndPoint(ProbeAddress(settings.Echo.Address), settings.Echo.Port);
        var health = new Uri($"http://127.0.0.1:{settings.Health.Port}/healthz");
        using var timeout = new CancellationTokenSource(Timeout);
        var asking = health.ToString();
        try
        {
            using var http = new HttpClient();
            using var response = await http.GetAsync(health, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                await output.WriteLineAsync($"unhealthy: {health} answered {(int)response.StatusCode}");
                return 1;
            }

            asking = echo.ToString();
            using var socket = new Socket(echo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(echo, timeout.Token);
            await output.WriteLineAsync($"healthy: {health} answered 200 and {echo} accepts connections");
            return 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or OperationCanceledException)
        {
            var reason = ex is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds} s" : (ex.InnerException ?? ex).Message;
            await output.WriteLineAsync($"unhealthy: {asking}: {reason}");
            return 1;
        }
    }

    // A host bound to all interfaces is reached on loopback; one bound to an address, on that address.
    private static IPAddress ProbeAddress(IPAddress? bound) =>
        bound is null || bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : bound;
}
