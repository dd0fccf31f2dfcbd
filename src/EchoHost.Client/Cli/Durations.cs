using System.CommandLine.Parsing;
using EchoHost.Shared;

namespace EchoHost.Client.Cli;

/// <summary>Duration options: the same syntax as the host's settings (<see cref="DurationText"/>).</summary>
internal static class Durations
{
    public static TimeSpan ParsePositive(ArgumentResult result) => Parse(result, allowZero: false);

    public static TimeSpan ParseNonNegative(ArgumentResult result) => Parse(result, allowZero: true);

    private static TimeSpan Parse(ArgumentResult result, bool allowZero)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var option = (result.Parent as OptionResult)?.Option.Name ?? "the duration";
        var problem = DurationText.TryParse(text, out var value) ?? (value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero) ? null : allowZero ? "it cannot be negative" : "it must be above zero");
        if (problem is null)
        {
            return value;
        }

        result.AddError($"{option} is '{text}': {problem}.");
        return default;
    }
}
