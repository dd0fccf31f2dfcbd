namespace EchoHost.Connections.Protocols;

/// <summary>Why a connection ended; every reason but <see cref="WriteTimeout"/> and <see cref="Failed"/> ends it with FIN.</summary>
public enum ConnectionEndReason
{
    /// <summary>The peer sent FIN, or stopped reading what the server sent.</summary>
    PeerClosed,

    /// <summary>The protocol closed it (close after reply).</summary>
    ProtocolClosed,

    /// <summary>No data arrived for the listener's idle timeout.</summary>
    IdleTimeout,

    /// <summary>Output did not drain for the listener's write timeout: the connection was aborted.</summary>
    WriteTimeout,

    /// <summary>The server is shutting down.</summary>
    ServerShutdown,

    /// <summary>The peer reset it, the transport aborted it, or the protocol threw.</summary>
    Failed,
}
