using System.Globalization;

namespace EchoHost.Shared;

/// <summary>
/// Durations as the host's settings and echoctl's options both write them: a number with a unit (<c>250ms</c>,
/// <c>5s</c>, <c>2m</c>, <c>1h</c>, <c>1.5s</c>) or <c>hh:mm:ss</c> (<c>00:00:05</c>, <c>1.00:00:00</c>). A bare
/// number is refused: <c>5</c> meant five days to the host and five seconds to the client before.
/// </summary>
internal static class DurationText
{
    public const string Forms = "a number with a unit (250ms, 5s, 2m, 1h) or hh:mm:ss (00:00:05)";

    private static readonly (string Suffix, double Seconds)[] Units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];

    /// <returns>Null when <paramref name="text"/> is a duration; otherwise what is wrong, in words.</returns>
    public static string? TryParse(string text, out TimeSpan value)
    {
        value = default;
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            return $"a bare number has no unit; write {bare.ToString(CultureInfo.InvariantCulture)}s or {TimeSpan.FromSeconds(Math.Abs(bare)):c}";
        }

        foreach (var (suffix, seconds) in Units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
                && amount * seconds < TimeSpan.MaxValue.TotalSeconds)
            {
                value = TimeSpan.FromSeconds(amount * seconds);
                return null;
            }
        }

        return trimmed.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParseExact(trimmed, "c", CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero
            ? null
            : $"expected {Forms}";
    }
}
