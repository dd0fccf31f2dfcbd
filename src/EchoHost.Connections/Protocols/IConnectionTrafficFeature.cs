namespace EchoHost.Connections.Protocols;

/// <summary>
/// What a protocol connection has moved so far, and how it ended; set on the connection's features by the
/// runner, so that middleware in front of it (lifetime logging, metrics) can read it after the protocol is done.
/// </summary>
public interface IConnectionTrafficFeature
{
    /// <summary>Bytes read from the peer, including any discarded after a close.</summary>
    long BytesReceived { get; }

    /// <summary>Bytes the protocol wrote.</summary>
    long BytesSent { get; }

    /// <summary>How the connection ended; <see langword="null"/> while it runs.</summary>
    ConnectionOutcome? Outcome { get; }
}
