using System.Globalization;

namespace EchoHost.Client.Fetch;

/// <summary>
/// The downloads of one run, from the command line's URLs and <c>--input-file</c> lines. A line is a URL,
/// optionally followed by a tab and the file name to write, and by another tab and <c>sha256:HEX</c>; blank
/// lines and lines starting with <c>#</c> are skipped. Every line is checked before anything is downloaded, so a
/// typo on line 90,000 is reported at once, with its line number.
/// </summary>
internal static class FetchList
{
    private const string Sha256Prefix = "sha256:";

    public static IReadOnlyList<FetchJob> Build(IEnumerable<string> urls, TextReader? inputFile, string inputName)
    {
        var names = new DownloadFileNames();
        var jobs = new List<FetchJob>();
        foreach (var url in urls)
        {
            var uri = ParseUrl(url) ?? throw new FetchListException($"'{url}' is not an http:// or https:// URL.");
            jobs.Add(new FetchJob(uri, names.NameFor(uri), null));
        }

        if (inputFile is null)
        {
            return jobs;
        }

        var number = 0;
        while (inputFile.ReadLine() is { } line)
        {
            number++;
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            var fields = text.Split('\t');
            string Where() => string.Create(CultureInfo.InvariantCulture, $"{inputName}:{number}");
            if (fields.Length > 3)
            {
                throw new FetchListException($"{Where()}: expected URL, then optionally a tab and a file name, then optionally a tab and sha256:HEX; found {fields.Length} fields.");
            }

            var uri = ParseUrl(fields[0].Trim()) ?? throw new FetchListException($"{Where()}: '{fields[0].Trim()}' is not an http:// or https:// URL.");
            var chosen = fields.Length > 1 ? fields[1].Trim() : "";
            string fileName;
            if (chosen.Length == 0)
            {
                fileName = names.NameFor(uri);
            }
            else if (!DownloadFileNames.IsPlainName(chosen))
            {
                throw new FetchListException($"{Where()}: '{chosen}' is not a plain file name (no folders, no leading dot, no control characters).");
            }
            else if (!names.TryTake(chosen))
            {
                throw new FetchListException($"{Where()}: the file name '{chosen}' is already taken by another download in this run.");
            }
            else
            {
                fileName = chosen;
            }

            jobs.Add(new FetchJob(uri, fileName, fields.Length > 2 ? ParseSha256(fields[2].Trim(), Where) : null));
        }

        return jobs;
    }

    private static Uri? ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    private static byte[]? ParseSha256(string text, Func<string> where)
    {
        if (text.Length == 0)
        {
            return null;
        }

        var hex = text.StartsWith(Sha256Prefix, StringComparison.OrdinalIgnoreCase) ? text[Sha256Prefix.Length..] : null;
        if (hex is not { Length: 64 } || !hex.All(char.IsAsciiHexDigit))
        {
            throw new FetchListException($"{where()}: '{text}' is not a checksum; expected sha256: and 64 hexadecimal digits.");
        }

        return Convert.FromHexString(hex);
    }
}

internal sealed class FetchListException(string message) : Exception(message);
