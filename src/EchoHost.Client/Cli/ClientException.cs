namespace EchoHost.Client.Cli;

/// <summary>A failure to report to the user in one line, without a stack trace.</summary>
public sealed class ClientException(string message) : Exception(message);
