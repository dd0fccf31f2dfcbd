using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace EchoHost.Hosting;

/// <summary>
/// Runs socket completions and the connection handlers on the socket threads instead of hopping to the thread
/// pool for every read. For small messages those hops cost more than the echo itself (the figures are in the
/// commit that turned this on, and in <c>bench/results</c>). It is safe only because nothing on that path blocks: the handler never waits on anything but the pipes, and
/// log events are written by Serilog's async sink on a thread of its own. Setting
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> turns it off.
/// </summary>
public static class InlineSchedulingExtensions
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static WebApplicationBuilder PreferInlineScheduling(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The socket engine reads the variable when it first starts, which is after this and before any listener.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        var inline = Environment.GetEnvironmentVariable(InlineCompletions) == "1";
        builder.Services.Configure<SocketTransportOptions>(options => options.UnsafePreferInlineScheduling = inline);
        return builder;
    }
}
