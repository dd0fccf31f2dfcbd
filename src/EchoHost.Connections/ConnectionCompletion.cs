using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Connections;

/// <summary>
/// Middleware with work left for a connection's end register it with the host's
/// <see cref="IConnectionCompleteFeature"/> rather than await the rest of the pipeline: Kestrel runs it, the last
/// registered first, once the pipeline has returned and before it disposes the transport. So an idle connection
/// holds a few bytes of state per middleware, not a suspended method of each.
/// </summary>
internal static class ConnectionCompletion
{
    public static IConnectionCompleteFeature Completion(this ConnectionContext connection) =>
        connection.Features.Get<IConnectionCompleteFeature>()
        ?? throw new InvalidOperationException(
            "This connection middleware runs under a host that reports each connection's completion (IConnectionCompleteFeature), as Kestrel does.");
}
