namespace EchoHost.Connections.Protocols;

/// <summary>How a connection ended: the reason, and for <see cref="ConnectionEndReason.Failed"/> the error.</summary>
public readonly record struct ConnectionOutcome(ConnectionEndReason Reason, Exception? Error);
