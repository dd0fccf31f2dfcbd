using System.Net;

namespace EchoHost.Configuration;

/// <summary>
/// A protocol listener next to echo, as its registration defaults it; each value can be set in configuration under
/// the listener's <see cref="Name"/> as a section (<c>--Upper:Port=7001</c>, <c>Upper__MaxConnections</c>).
/// </summary>
/// <param name="Name">What the logs and settings call it: <c>Upper listener serving on …</c>, <c>Upper:Port</c>.</param>
/// <param name="Speaks">What a client finds there, for the start-up line.</param>
public sealed record ProtocolListenerSettings(string Name, string Speaks)
{
    public int Port { get; init; }

    /// <summary>The address to bind; null for all interfaces.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>Connections admitted at once; more are closed unanswered, and the descriptors are reserved for them.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>How long a client may send nothing; <see cref="TimeSpan.Zero"/> disables it.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long written output may wait for the client to read it; <see cref="TimeSpan.Zero"/> disables it.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromMinutes(1);
}
