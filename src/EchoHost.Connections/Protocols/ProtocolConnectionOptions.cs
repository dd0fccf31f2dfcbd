namespace EchoHost.Connections.Protocols;

/// <summary>Per-listener limits on each protocol connection. <see cref="TimeSpan.Zero"/> disables a limit.</summary>
public sealed record ProtocolConnectionOptions
{
    /// <summary>How long the peer may send nothing before the connection is closed like end of input.</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>How long written output may wait for the peer to read it before the connection is aborted.</summary>
    public TimeSpan WriteTimeout { get; init; }

    /// <summary>Charged with each connection whose client stops reading, while it does not; none when null.</summary>
    public Limits.MemoryBudget? MemoryBudget { get; init; }
}
