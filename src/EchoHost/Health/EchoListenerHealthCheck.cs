using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EchoHost.Health;

/// <summary>
/// Ready from the moment every listener is bound until shutdown begins; Kestrel stops accepting right after,
/// so a load balancer that reads this stops sending new connections first.
/// </summary>
public sealed class EchoListenerHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = (lifetime.ApplicationStarted.IsCancellationRequested, lifetime.ApplicationStopping.IsCancellationRequested) switch
        {
            (_, true) => HealthCheckResult.Unhealthy("Shutting down: the echo listener no longer accepts connections."),
            (true, false) => HealthCheckResult.Healthy("The echo listener accepts connections."),
            (false, false) => HealthCheckResult.Unhealthy("Starting: the echo listener is not bound yet."),
        };
        return Task.FromResult(result);
    }
}
