namespace EchoHost.Configuration;

/// <summary>Configuration the host cannot start with; the message names each key and its bad value.</summary>
public sealed class InvalidSettingsException(IReadOnlyList<string> problems)
    : Exception("Invalid configuration: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
