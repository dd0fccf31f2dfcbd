using EchoHost.Configuration;
using EchoHost.Echo;
using EchoHost.Health;
using EchoHost.Hosting;
using EchoHost.Logging;
using EchoHost.Metrics;
using EchoHost.Transport;
using UpperCaseHost;

if (HostCommandLine.Handle(args, Console.Out, Console.Error) is { } handled)
{
    return handled;
}

return await StartupFailures.ReportAsync(Console.Error, async () =>
{
    var builder = EchoHostBuilder.Create(args);
    builder.IgnoreServerPorts();
    builder.PreferInlineScheduling();
    builder.Services
        .AddEchoHostSettings()
        .AddEchoHostLogging()
        .AddEchoHostLifecycle()
        .AddEchoHostTransport()
        .AddEchoListener()
        .AddProtocolListener<UpperCaseProtocolFactory>(new ProtocolListenerSettings("Upper", "upper-case lines over TCP") { Port = 7000 })
        .AddHealthListener()
        .AddEchoHostMetrics(builder.Configuration);

    var app = builder.Build();
    app.Services.ValidateEchoHostSettings();
    app.MapHealthEndpoints();
    app.MapMetricsEndpoint();

    await app.RunAsync();
    return ExitCodes.Stopped;
});
