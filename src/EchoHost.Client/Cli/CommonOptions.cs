using System.CommandLine;

namespace EchoHost.Client.Cli;

/// <summary>Options several verbs share, defined once so they read and validate the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string> Host(string fallback) => new("--host")
    {
        Description = "Server host name or address.",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<int> Port() => Validated(
        new Option<int>("--port", "-p") { Description = "Server TCP port.", DefaultValueFactory = _ => 8888 },
        port => port is >= 1 and <= 65535,
        "--port must be from 1 to 65535.");

    public static Option<TimeSpan> Timeout(TimeSpan fallback, string description) => Validated(
        new Option<TimeSpan>("--timeout") { Description = description + " (seconds, or hh:mm:ss).", DefaultValueFactory = _ => fallback, CustomParser = Durations.Parse },
        value => value > TimeSpan.Zero,
        "--timeout must be positive.");

    public static Option<bool> Json() => new("--json") { Description = "Write the result as JSON on standard output, for scripts." };

    public static Option<T> Validated<T>(Option<T> option, Func<T, bool> isValid, string message)
    {
        option.Validators.Add(result =>
        {
            if (!isValid(result.GetValueOrDefault<T>()!))
            {
                result.AddError(message);
            }
        });
        return option;
    }
}
