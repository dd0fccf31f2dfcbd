using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Hosting;

/// <summary>
/// The two Kestrel endpoints, kept so that their real addresses can be read once bound (port 0 becomes a
/// real port only then): for the start-up log, for tests, and for anything that must reach the host.
/// </summary>
public sealed class Listeners
{
    private ListenOptions? _echo;
    private ListenOptions? _health;

    public IPEndPoint EchoEndPoint => EndPointOf(_echo, "echo");

    public IPEndPoint HealthEndPoint => EndPointOf(_health, "health");

    internal void SetEcho(ListenOptions listen) => _echo = listen;

    internal void SetHealth(ListenOptions listen) => _health = listen;

    private static IPEndPoint EndPointOf(ListenOptions? listen, string name) =>
        listen?.IPEndPoint ?? throw new InvalidOperationException($"The {name} listener is not configured yet.");
}
