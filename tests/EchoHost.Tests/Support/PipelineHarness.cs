using System.Net;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using EchoHost.Connections.Protocols;
using EchoHost.Connections.Proxy;
using EchoHost.Echo;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Serilog;

namespace EchoHost.Tests.Support;

/// <summary>
/// The echo listener's connection pipeline (limit, optional PROXY header, lifetime logging, metrics, protocol)
/// built over in-memory pipes instead of Kestrel, with a fake clock and every log event captured.
/// </summary>
internal sealed class PipelineHarness : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly ConnectionDelegate _pipeline;
    private readonly List<PipeConnection> _connections = [];

    public PipelineHarness(EchoOptions? options = null, TimeSpan? proxyTimeout = null, IReadOnlyList<IPNetwork>? trustedProxies = null)
    {
        options ??= new EchoOptions();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(Time)
            .AddSingleton(options)
            .AddLogging(logging => logging.AddSerilog(
                new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(Logs).CreateLogger(), dispose: true));
        services.AddEcho();
        _services = services.BuildServiceProvider();

        Counter = _services.GetRequiredService<ConnectionCounter>();
        Metrics = _services.GetRequiredService<EchoMetrics>().Connections;
        var builder = new ConnectionBuilder(_services).UseConnectionLimit(Counter, Metrics);
        if (proxyTimeout is { } timeout)
        {
            builder.UseProxyProtocol(timeout, trustedProxies, Metrics);
        }

        _pipeline = builder
            .UseConnectionLifetimeLogging("EchoHost.Echo.Connections")
            .UseConnectionMetrics(Metrics)
            .UseProtocol<EchoProtocolFactory>(new ProtocolConnectionOptions { IdleTimeout = options.IdleTimeout, WriteTimeout = options.WriteTimeout, MemoryBudget = Memory }, Metrics)
            .Build();
    }

    public FakeTimeProvider Time { get; } = new();

    /// <summary>What the runners charge for held input and flushes that wait; large enough never to be over.</summary>
    public MemoryBudget Memory { get; } = new(64L * 1024 * 1024, 64 * 1024);

    public LogCapture Logs { get; } = new();

    public ConnectionCounter Counter { get; }

    public ConnectionMetrics Metrics { get; }

    public (PipeConnection Connection, Task Run) Start(EndPoint? peer = null, long serverOutputLimit = 0)
    {
        var connection = new PipeConnection(peer, serverOutputLimit);
        _connections.Add(connection);
        return (connection, connection.RunAsync(_pipeline));
    }

    public void Dispose()
    {
        _connections.ForEach(c => c.Dispose());
        _services.Dispose();
    }
}
