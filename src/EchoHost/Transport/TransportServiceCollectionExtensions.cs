using EchoHost.Buffers;
using EchoHost.Echo;
using EchoHost.Hosting;
using EchoHost.Transport.Linux;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace EchoHost.Transport;

public static class TransportServiceCollectionExtensions
{
    /// <summary>Output a connection may hold while its client does not read: Kestrel's default, made explicit.</summary>
    public const int MaxWriteBufferSize = 64 * 1024;

    /// <summary>
    /// The transports as EchoHost runs them: for the echo listener, Kestrel's socket transport or, with
    /// <c>Transport:Kind = Linux</c>, <c>IoUring</c> or <c>Auto</c>, EchoHost's Linux transport; 16 KiB pool blocks for the echo listener, each listener accepting
    /// within its share of the process's <see cref="DescriptorBudget"/>, and per-connection buffers bounded: input at
    /// <c>Echo:MaxLineBytes</c> plus one read (a partial line never waits on a full pipe), output at
    /// <see cref="MaxWriteBufferSize"/>. Registered last, since Kestrel takes the last transport registered.
    /// </summary>
    public static IServiceCollection AddEchoHostTransport(this IServiceCollection services)
    {
        services.AddLargeTransportBlocks();
        services.AddSingleton(provider => DescriptorBudget.Measure(provider.GetServices<DescriptorReservation>().Sum(r => r.Descriptors)));
        services.AddSingleton(provider => MemoryBudgetDefaults.For(provider.GetRequiredService<EchoOptions>()));
        services.AddSingleton(provider =>
        {
            var echo = provider.GetRequiredService<EchoOptions>();
            var transport = provider.GetRequiredService<TransportOptions>();
            var options = new LinuxTransportOptions(
                new LargeBlockMemoryPool(provider.GetRequiredService<BlockStore>()),
                (long)echo.MaxLineBytes + LargeBlockPoolExtensions.BlockSize,
                MaxWriteBufferSize,
                transport.Threads)
            {
                Engine = transport.Engine ?? LinuxEngine.Epoll,
            };
            return new LinuxTransportFactory(options, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILoggerFactory>());
        });
        services.AddSingleton<IConnectionListenerFactory>(provider => new GatedConnectionListenerFactory(
            provider.GetRequiredService<TransportOptions>().Engine is not null
                ? provider.GetRequiredService<LinuxTransportFactory>()
                : ActivatorUtilities.CreateInstance<SocketTransportFactory>(provider),
            HealthTransport(provider.GetRequiredService<ILoggerFactory>()),
            SystemFileTable.Proc(provider.GetRequiredService<TimeProvider>()),
            provider.GetRequiredService<Listeners>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<AcceptGate>>()));
        services.AddOptions<SocketTransportOptions>().Configure<EchoOptions>((transport, echo) =>
        {
            transport.MaxReadBufferSize = (long)echo.MaxLineBytes + LargeBlockPoolExtensions.BlockSize;
            transport.MaxWriteBufferSize = MaxWriteBufferSize;
        });
        return services;
    }

    // Options built here rather than taken from the container: Kestrel's setup of the container's options is what
    // hands them the large-block pool, and a probe needs neither those blocks nor an I/O queue per core.
    private static SocketTransportFactory HealthTransport(ILoggerFactory loggers) =>
        new(Options.Create(new SocketTransportOptions { IOQueueCount = 1 }), loggers);
}
