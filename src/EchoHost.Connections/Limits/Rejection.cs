using Microsoft.AspNetCore.Connections;

namespace EchoHost.Connections.Limits;

internal static class Rejection
{
    /// <summary>Ends a connection that was turned away: nothing read, nothing written, FIN.</summary>
    public static async Task CloseUnansweredAsync(this ConnectionContext connection)
    {
        await connection.Transport.Output.CompleteAsync();
        await connection.Transport.Input.CompleteAsync();
    }
}
