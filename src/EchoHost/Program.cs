using EchoHost.Configuration;
using EchoHost.Connections.Tls;
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

try
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
}
catch (InvalidSettingsException ex)
{
    await Console.Error.WriteLineAsync($"EchoHost cannot start. {ex.Message}");
    return ExitCodes.InvalidSettings;
}
catch (InvalidDataException ex) when (ex.InnerException is FormatException)
{
    // A settings file that is not JSON (a trailing comma, a broken ConfigMap): the file and the place, in one line.
    await Console.Error.WriteLineAsync($"EchoHost cannot start. Invalid configuration: {ex.Message.TrimEnd('.')}: {ex.GetBaseException().Message}");
    return ExitCodes.InvalidSettings;
}
catch (CertificateLoadException ex)
{
    await Console.Error.WriteLineAsync($"EchoHost cannot start. Invalid configuration: Echo:Tls:Certificate: {ex.Message.TrimEnd('.')}.");
    return ExitCodes.InvalidSettings;
}
catch (BindFailure ex)
{
    await Console.Error.WriteLineAsync($"EchoHost cannot start. {ex.Message}");
    return ExitCodes.CannotListen;
}
