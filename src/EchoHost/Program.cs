using EchoHost.Configuration;
using EchoHost.Echo;
using EchoHost.Health;
using EchoHost.Hosting;
using EchoHost.Logging;
using EchoHost.Metrics;
using EchoHost.Transport;

if (HostCommandLine.Handle(args, Console.Out, Console.Error) is { } handled)
{
    return handled;
}

return await StartupFailures.ReportAsync(Console.Error, async () =>
{
    if (args is [HealthProbe.Command, .. var probeArgs])
    {
        return await HealthProbe.RunAsync(EchoHostBuilder.Create(probeArgs).Configuration, Console.Out, Console.Error);
    }

    var builder = EchoHostBuilder.Create(args);
    builder.IgnoreServerPorts();
    builder.PreferInlineScheduling();
    builder.Services
        .AddEchoHostSettings()
        .AddEchoHostLogging()
        .AddEchoHostLifecycle()
        .AddEchoHostTransport()
        .AddEchoListener()
        .AddHealthListener()
        .AddEchoHostMetrics(builder.Configuration);

    var app = builder.Build();
    app.Services.ValidateEchoHostSettings();
    app.MapHealthEndpoints();
    app.MapMetricsEndpoint();

    await app.RunAsync();
    return ExitCodes.Stopped;
});
