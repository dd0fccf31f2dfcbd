using System.CommandLine.Parsing;
using System.Globalization;

namespace EchoHost.Client.Cli;

/// <summary>Durations on the command line: plain seconds (<c>10</c>, <c>0.5</c>), with a unit (<c>250ms</c>, <c>10s</c>, <c>2m</c>), or <c>hh:mm:ss</c>.</summary>
internal static class Durations
{
    public static TimeSpan ParsePositive(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        result.AddError($"'{text}' is not a positive duration; use seconds (10), a unit (250ms, 10s, 2m) or hh:mm:ss.");
        return default;
    }

    public static bool TryParse(string text, out TimeSpan value)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };

        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && double.IsFinite(amount))
        {
            value = TimeSpan.FromSeconds(amount * scale);
            return true;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }
}
