using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Protocols;
using EchoHost.Echo;
using EchoHost.Transport;
using EchoHost.Transport.Linux;

namespace EchoHost.Hosting;

/// <summary>
/// The host's own start and stop lines. Kestrel's "Now listening on: http://..." lines are turned off in
/// appsettings.json because they call the raw TCP port http; these say which port speaks what.
/// </summary>
public sealed partial class LifecycleLog(
    Listeners listeners,
    IgnoredServerPorts ignoredServerPorts,
    DescriptorBudget descriptors,
    EchoOptions echo,
    TransportOptions transport,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<LifecycleLog> logger)
    : IHostedLifecycleService
{
    private int _openAtShutdown;
    private long _stoppingSince;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var listener in listeners.All)
        {
            Listening(logger, listener.Name, listener.EndPoint, listener.Speaks);
        }

        var framing = echo.Framing == MessageFraming.Line ? $"lines of up to {echo.MaxLineBytes} bytes" : "one message per read";
        var tls = echo.TlsCertificate is null ? "off" : $"on ({echo.TlsCertificate.Path})";
        var proxy = echo.ProxyProtocol == ProxyProtocolMode.Off ? "Off"
            : echo.ProxyProtocolTrustedNetworks.Count == 0 ? $"{echo.ProxyProtocol} (from any peer)"
            : $"{echo.ProxyProtocol} (from {string.Join(", ", echo.ProxyProtocolTrustedNetworks)} only)";
        EchoBehaviour(
            logger, echo.Mode, framing, echo.ReplyPrefix, echo.CloseAfterReply ? "yes" : "no", echo.MaxConnections, echo.IdleTimeout, echo.WriteTimeout, proxy, tls);
        if (transport.Engine is { } engine)
        {
            LinuxTransport(logger, engine == LinuxEngine.IoUring ? "io_uring" : "epoll", transport.Kind, transport.Threads);
        }

        if (transport.Kind == TransportKind.Auto && transport.IoUringUnavailable is { } reason)
        {
            IoUringFallback(logger, reason);
        }

        if (descriptors.EchoConnections < echo.MaxConnections)
        {
            DescriptorsShort(logger, echo.MaxConnections, descriptors.Limit, descriptors.OpenAtStart, descriptors.Reserved, descriptors.EchoConnections);
        }

        if (ignoredServerPorts.Settings.Length > 0)
        {
            ServerPortsIgnored(logger, ignoredServerPorts.Settings);
        }

        Started(logger, environment.EnvironmentName);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _openAtShutdown = Connections.Sum(c => c.Active);
        _stoppingSince = time.GetTimestamp();
        Stopping(logger, _openAtShutdown);
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        var seconds = time.GetElapsedTime(_stoppingSince).TotalSeconds;
        var closed = Connections.Sum(c => c.ClosedBy(ConnectionEndReason.ServerShutdown));
        Stopped(logger, closed, _openAtShutdown, seconds);
        return Task.CompletedTask;
    }

    private IEnumerable<ConnectionMetrics> Connections => listeners.All.Select(l => l.Connections).OfType<ConnectionMetrics>();

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Listener} listener serving on {EndPoint} ({Speaks})")]
    private static partial void Listening(ILogger logger, string listener, System.Net.IPEndPoint endPoint, string speaks);

    [LoggerMessage(
        EventId = 8,
        Level = LogLevel.Information,
        Message = "Echo listener: mode {Mode}, {Framing}, reply prefix '{ReplyPrefix}', close after reply: {CloseAfterReply}, at most {MaxConnections} connections, idle timeout {IdleTimeout:c}, write timeout {WriteTimeout:c}, PROXY protocol {ProxyProtocol}, TLS {Tls}")]
    private static partial void EchoBehaviour(
        ILogger logger, EchoMode mode, string framing, string replyPrefix, string closeAfterReply, int maxConnections, TimeSpan idleTimeout, TimeSpan writeTimeout, string proxyProtocol, string tls);

    [LoggerMessage(
        EventId = 7,
        Level = LogLevel.Warning,
        Message = "Echo:MaxConnections={MaxConnections} does not fit the file-descriptor limit RLIMIT_NOFILE={Limit} ({Open} open at start, {Reserved} kept for the runtime, health checks and turning connections away): admitting at most {Admitted} echo connections; raise the limit (ulimit -n) to admit more")]
    private static partial void DescriptorsShort(ILogger logger, int maxConnections, long limit, int open, int reserved, int admitted);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Echo listener on EchoHost's {Engine} transport (Transport:Kind={Kind}) with {Threads} thread(s)")]
    private static partial void LinuxTransport(ILogger logger, string engine, TransportKind kind, int threads);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Transport:Kind=Auto runs epoll, not io_uring: {Reason}")]
    private static partial void IoUringFallback(ILogger logger, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Ignored {Settings}: the health listener binds Health:Port only")]
    private static partial void ServerPortsIgnored(ILogger logger, string settings);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "EchoHost started in {Environment}; press Ctrl+C to stop")]
    private static partial void Started(ILogger logger, string environment);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "EchoHost stopping: no new connections; closing {Open} open connection(s) gracefully")]
    private static partial void Stopping(ILogger logger, int open);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "EchoHost stopped: closed {Closed} of {Open} connection(s) gracefully in {Seconds:0.000} s")]
    private static partial void Stopped(ILogger logger, int closed, int open, double seconds);
}
