namespace EchoHost.Configuration;

/// <summary>The <c>Health</c> configuration section.</summary>
public sealed record HealthOptions
{
    public const string SectionName = "Health";

    public int Port { get; init; } = 8080;
}
