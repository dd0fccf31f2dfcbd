using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace EchoHost.Client.Cli;

/// <summary>Options several verbs share, and number options that parse and range-check in one step.</summary>
internal static class CommonOptions
{
    public static Option<string> Host(string fallback) => new("--host")
    {
        Description = "Server host name or address.",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<int> Port() => Number("--port", "Server TCP port.", 8888, 1, 65535, "-p");

    public static Option<TimeSpan> Timeout(TimeSpan fallback, string description) => new("--timeout")
    {
        Description = description + " (a unit: 500ms, 5s, 2m; or hh:mm:ss).",
        DefaultValueFactory = _ => fallback,
        CustomParser = Durations.ParsePositive,
    };

    public static Option<TimeSpan> Duration(string name, TimeSpan fallback, string description) => new(name)
    {
        Description = $"{description} (default {fallback.TotalSeconds:0.###}s; a unit: 500ms, 5s, 2m; or hh:mm:ss).",
        DefaultValueFactory = _ => fallback,
        CustomParser = Durations.ParsePositive,
    };

    public static Option<TimeSpan?> OptionalDuration(string name, string description) => new(name)
    {
        Description = description + " (a unit: 500ms, 5s, 2m; or hh:mm:ss).",
        CustomParser = result => Durations.ParsePositive(result),
    };

    public static Option<bool> Json() => new("--json") { Description = "Write the result as JSON on standard output, for scripts." };

    public static Option<T> Number<T>(string name, string description, T fallback, T min, T max, params string[] aliases)
        where T : struct, IBinaryInteger<T>
    {
        return new Option<T>(name, aliases)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
                if (T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                {
                    return value;
                }

                result.AddError($"{name} must be a whole number from {min} to {max}, not '{text}'.");
                return fallback;
            },
        };
    }
}
