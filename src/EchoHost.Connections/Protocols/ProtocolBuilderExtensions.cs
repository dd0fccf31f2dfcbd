using System.Diagnostics.CodeAnalysis;
using EchoHost.Connections.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Protocols;

public static class ProtocolBuilderExtensions
{
    /// <summary>
    /// Ends the pipeline: each connection runs one protocol object from <typeparamref name="TFactory"/> (taken
    /// from the services, or made with them) in a <see cref="ProtocolConnection"/>. As the host starts to stop, they
    /// register for Kestrel's request to close (<see cref="ProtocolConnections.HearCloseRequestsAtOnce"/>).
    /// </summary>
    public static IConnectionBuilder UseProtocol<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFactory>(
        this IConnectionBuilder builder, ProtocolConnectionOptions options, ConnectionMetrics? metrics = null)
        where TFactory : IConnectionProtocolFactory
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.ApplicationServices;
        var factory = ActivatorUtilities.GetServiceOrCreateInstance<TFactory>(services);
        var time = services.Clock();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ProtocolConnection>();
        var connections = new ProtocolConnections(options, time, metrics, logger);
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(connections.HearCloseRequestsAtOnce);
        builder.Run(connection => new ProtocolConnection(connection, connections).RunAsync(factory.Create(connection)));
        return builder;
    }
}
