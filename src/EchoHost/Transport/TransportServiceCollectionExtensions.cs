using EchoHost.Buffers;
using EchoHost.Echo;
using EchoHost.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace EchoHost.Transport;

public static class TransportServiceCollectionExtensions
{
    /// <summary>Output a connection may hold while its client does not read: Kestrel's default, made explicit.</summary>
    public const int MaxWriteBufferSize = 64 * 1024;

    /// <summary>
    /// Kestrel's socket transport as EchoHost runs it: 16 KiB pool blocks, the echo listener accepting within the
    /// process's <see cref="DescriptorBudget"/>, and per-connection buffers bounded: input at
    /// <c>Echo:MaxLineBytes</c> plus one read (a partial line never waits on a full pipe), output at
    /// <see cref="MaxWriteBufferSize"/>. Registered last, since Kestrel takes the last transport registered.
    /// </summary>
    public static IServiceCollection AddEchoHostTransport(this IServiceCollection services)
    {
        services.AddLargeTransportBlocks();
        services.AddSingleton(_ => DescriptorBudget.Measure());
        services.AddSingleton(provider => MemoryBudgetDefaults.For(provider.GetRequiredService<EchoOptions>()));
        services.AddSingleton(provider => new AcceptGate(
            provider.GetRequiredService<DescriptorBudget>().EchoAcceptCapacity,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<AcceptGate>>()));
        services.AddSingleton<IConnectionListenerFactory>(provider => new GatedConnectionListenerFactory(
            ActivatorUtilities.CreateInstance<SocketTransportFactory>(provider),
            provider.GetRequiredService<AcceptGate>(),
            provider.GetRequiredService<Listeners>()));
        services.AddOptions<SocketTransportOptions>().Configure<EchoOptions>((transport, echo) =>
        {
            transport.MaxReadBufferSize = (long)echo.MaxLineBytes + LargeBlockPoolExtensions.BlockSize;
            transport.MaxWriteBufferSize = MaxWriteBufferSize;
        });
        return services;
    }
}
