using System.Diagnostics;
using EchoHost.Protocol.Echo;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Protocol.Connections;

/// <summary>
/// Kestrel's entry point for the echo listener: one <see cref="EchoProtocol"/> per connection, run by a
/// <see cref="ProtocolConnection"/>, with the connection's first and last log lines.
/// </summary>
public sealed class EchoConnectionHandler(
    EchoBehavior behavior,
    ILogger<EchoConnectionHandler> logger,
    ILogger<EchoProtocol> protocolLogger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var started = Stopwatch.GetTimestamp();
        var peer = PeerAddress.Format(connection.RemoteEndPoint);
        EchoConnectionLog.ConnectionFrom(logger, peer);

        var protocolConnection = new ProtocolConnection(connection);
        var error = await protocolConnection.RunAsync(new EchoProtocol(behavior, protocolLogger));

        if (error is not null)
        {
            EchoConnectionLog.ConnectionFailed(logger, peer, error.Message);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        EchoConnectionLog.ConnectionClosed(logger, peer, protocolConnection.BytesReceived, protocolConnection.BytesSent, seconds);
    }
}
