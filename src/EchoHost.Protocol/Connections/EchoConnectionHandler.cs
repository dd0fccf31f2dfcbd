using System.Diagnostics;
using System.Globalization;
using EchoHost.Protocol.Echo;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Protocol.Connections;

/// <summary>
/// Kestrel's entry point for the echo listener: enforces <c>Echo:MaxConnections</c>, runs one
/// <see cref="EchoProtocol"/> per connection through a <see cref="ProtocolConnection"/>, and writes the
/// connection's first and last log lines.
/// </summary>
public sealed class EchoConnectionHandler(
    EchoBehavior behavior,
    EchoConnections connections,
    ILogger<EchoConnectionHandler> logger,
    ILogger<EchoProtocol> protocolLogger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!connections.TryOpen(out var rejectionsToReport))
        {
            if (rejectionsToReport > 0)
            {
                EchoConnectionLog.ConnectionsRejected(logger, rejectionsToReport, connections.MaxConnections, EchoConnections.RejectionReportInterval.TotalSeconds);
            }

            // Over the limit: closed at once, unread and unanswered.
            await connection.Transport.Output.CompleteAsync();
            await connection.Transport.Input.CompleteAsync();
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var peer = PeerAddress.Format(connection.RemoteEndPoint);
        var outcome = default(ConnectionOutcome);
        var protocolConnection = new ProtocolConnection(connection, behavior.IdleTimeout);
        try
        {
            EchoConnectionLog.ConnectionFrom(logger, peer);
            outcome = await protocolConnection.RunAsync(new EchoProtocol(behavior, protocolLogger));
        }
        finally
        {
            connections.Close(outcome.Reason);
        }

        switch (outcome.Reason)
        {
            case ConnectionEndReason.IdleTimeout:
                var idleTimeout = behavior.IdleTimeout.ToString("c", CultureInfo.InvariantCulture);
                EchoConnectionLog.ConnectionIdle(logger, peer, idleTimeout);
                break;
            case ConnectionEndReason.Failed:
                EchoConnectionLog.ConnectionFailed(logger, peer, outcome.Error?.Message);
                break;
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        EchoConnectionLog.ConnectionClosed(logger, peer, protocolConnection.BytesReceived, protocolConnection.BytesSent, seconds);
    }
}
