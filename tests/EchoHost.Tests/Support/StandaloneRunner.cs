using EchoHost.Connections.Protocols;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Support;

/// <summary>A runner over a test connection, in a listener of its own, as <c>UseProtocol</c> makes them but with no host.</summary>
internal static class StandaloneRunner
{
    public static (ProtocolConnections Listener, ProtocolConnection Runner) Create(
        PipeConnection connection, ProtocolConnectionOptions? options = null, TimeProvider? time = null)
    {
        var listener = new ProtocolConnections(options ?? new ProtocolConnectionOptions(), time ?? TimeProvider.System, null, NullLogger.Instance);
        return (listener, new ProtocolConnection(connection.Context, listener));
    }
}
