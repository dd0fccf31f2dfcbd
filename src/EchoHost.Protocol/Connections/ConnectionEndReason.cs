namespace EchoHost.Protocol.Connections;

/// <summary>Why a connection ended; every reason but <see cref="Failed"/> ends it with FIN.</summary>
public enum ConnectionEndReason
{
    /// <summary>The peer sent FIN, or stopped reading what the server sent.</summary>
    PeerClosed,

    /// <summary>The protocol closed it (close after reply).</summary>
    ProtocolClosed,

    /// <summary>No data arrived for <c>Echo:IdleTimeout</c>.</summary>
    IdleTimeout,

    /// <summary>The server is shutting down.</summary>
    ServerShutdown,

    /// <summary>The peer reset it, or the transport aborted it.</summary>
    Failed,
}
