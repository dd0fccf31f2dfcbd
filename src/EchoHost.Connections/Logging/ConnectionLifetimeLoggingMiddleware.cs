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
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var started = Stopwatch.GetTimestamp();
        var peer = PeerAddress.Format(connection.RemoteEndPoint);
        ConnectionLifetimeLog.ConnectionFrom(logger, peer);
        try
        {
            await next(connection);
        }
        finally
        {
            var traffic = connection.Features.Get<IConnectionTrafficFeature>();
            if (traffic?.Outcome is { Reason: ConnectionEndReason.Failed, Error: var error })
            {
                ConnectionLifetimeLog.ConnectionFailed(logger, peer, error?.Message);
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            ConnectionLifetimeLog.ConnectionClosed(logger, peer, traffic?.BytesReceived ?? 0, traffic?.BytesSent ?? 0, seconds);
        }
    }
}
