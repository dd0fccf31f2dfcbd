using Spectre.Console;

namespace EchoHost.Client.Cli;

/// <summary>
/// Where a command writes: <see cref="Console"/> for people (tables, progress), <see cref="Out"/> for plain
/// results and <c>--json</c>, <see cref="Error"/> for error messages, <see cref="In"/> for <c>send</c>'s lines.
/// Tests pass their own; the program passes the process's.
/// </summary>
public sealed record Terminal(IAnsiConsole Console, TextWriter Out, TextWriter Error, TextReader In, bool InputIsInteractive)
{
    /// <summary>Progress displays only make sense for a person watching a terminal.</summary>
    public bool ShowsProgress => Console.Profile.Capabilities.Interactive;
}
