using System.Text.RegularExpressions;

namespace EchoHost.Hosting;

/// <summary>
/// Turns Kestrel's "Failed to bind to address http://[::]:8888: address already in use." into a message that
/// says which listener and which setting: Kestrel calls every endpoint http://, even the raw TCP one.
/// </summary>
public static partial class BindFailure
{
    public static string Describe(IOException exception, Listeners? listeners)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var match = KestrelBindMessage().Match(exception.Message);
        if (!match.Success)
        {
            return exception.Message;
        }

        var address = match.Groups["address"].Value;
        var port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var listener = listeners?.All.FirstOrDefault(l => l.Options.IPEndPoint?.Port == port) is { } known
            ? $"The {known.Name.ToLowerInvariant()} listener ({known.PortSetting})"
            : "A listener";
        return $"{listener} cannot bind {address}:{port}: {match.Groups["reason"].Value}.";
    }

    [GeneratedRegex(@"bind to address \w+://(?<address>.+):(?<port>\d+): (?<reason>.+?)\.?$")]
    private static partial Regex KestrelBindMessage();
}
