using System.Diagnostics;
using EchoHost.Connections.Protocols;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Logging;

/// <summary>
/// A connection's first and last log lines: who connected, and what moved and for how long when it closed.
/// It sits after the PROXY protocol middleware, so the peer it names is the real client.
/// </summary>
internal sealed class ConnectionLifetimeLoggingMiddleware(ConnectionDelegate next, ILogger logger)
{
    // The peer is formatted for each line that is written rather than kept as a string: a connection that waits
    // for its end here holds nothing more, and one whose lines are filtered out formats nothing.
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var started = Stopwatch.GetTimestamp();
        if (logger.IsEnabled(LogLevel.Information))
        {
            var peer = PeerAddress.Format(connection.RemoteEndPoint);
            ConnectionLifetimeLog.ConnectionFrom(logger, peer);
        }

        try
        {
            await next(connection);
        }
        finally
        {
            var traffic = connection.Features.Get<IConnectionTrafficFeature>();
            if (traffic?.Outcome is { Reason: ConnectionEndReason.Failed, Error: var error } && logger.IsEnabled(LogLevel.Debug))
            {
                var peer = PeerAddress.Format(connection.RemoteEndPoint);
                ConnectionLifetimeLog.ConnectionFailed(logger, peer, error?.Message);
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                var peer = PeerAddress.Format(connection.RemoteEndPoint);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                ConnectionLifetimeLog.ConnectionClosed(logger, peer, traffic?.BytesReceived ?? 0, traffic?.BytesSent ?? 0, seconds);
            }
        }
    }
}
