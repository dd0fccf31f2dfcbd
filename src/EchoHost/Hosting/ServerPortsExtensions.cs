namespace EchoHost.Hosting;

/// <summary>
/// The host binds exactly two endpoints, from <c>Echo:*</c> and <c>Health:Port</c>. The official images set
/// <c>ASPNETCORE_HTTP_PORTS=8080</c>, which would make Kestrel warn at every start that it overrides it; the
/// port settings are cleared instead and the start-up log says they were ignored. An explicit
/// <c>ASPNETCORE_URLS</c> is read before this runs, so Kestrel's own warning reports that one.
/// </summary>
public static class ServerPortsExtensions
{
    private static readonly string[] PortKeys = [WebHostDefaults.HttpPortsKey, WebHostDefaults.HttpsPortsKey];

    public static WebApplicationBuilder IgnoreServerPorts(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var ignored = string.Join(", ", PortKeys
            .Where(key => !string.IsNullOrEmpty(builder.Configuration[key]))
            .Select(key => $"ASPNETCORE_{key.ToUpperInvariant()}={builder.Configuration[key]}"));
        foreach (var key in PortKeys)
        {
            builder.Configuration[key] = string.Empty;
        }

        builder.Services.AddSingleton(new IgnoredServerPorts(ignored));
        return builder;
    }
}

/// <summary>The port settings that were set but not used, for the start-up log; empty when none were.</summary>
public sealed record IgnoredServerPorts(string Settings);
