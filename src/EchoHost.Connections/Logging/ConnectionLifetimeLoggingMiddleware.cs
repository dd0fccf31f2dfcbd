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
    // for its end holds nothing more, and one whose lines are filtered out formats nothing.
    public Task OnConnectionAsync(ConnectionContext connection)
    {
        var completion = connection.Completion();
        if (logger.IsEnabled(LogLevel.Information))
        {
            var peer = PeerAddress.Format(connection.RemoteEndPoint);
            ConnectionLifetimeLog.ConnectionFrom(logger, peer);
        }

        completion.OnCompleted(
            static open => ((OpenConnection)open).Close(), new OpenConnection(connection, logger, Stopwatch.GetTimestamp(), ExecutionContext.Capture()));
        return next(connection);
    }

    // The closing lines are written in the execution context the connection started in: the host completes a
    // connection after its log scope has ended, and those lines belong to the connection's scope as the first does.
    private sealed class OpenConnection(ConnectionContext connection, ILogger logger, long started, ExecutionContext? context)
    {
        public Task Close()
        {
            if (context is null)
            {
                Log();
            }
            else
            {
                ExecutionContext.Run(context, static open => ((OpenConnection)open!).Log(), this);
            }

            return Task.CompletedTask;
        }

        private void Log()
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
