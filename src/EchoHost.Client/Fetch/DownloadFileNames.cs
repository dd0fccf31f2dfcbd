using System.Security.Cryptography;
using System.Text;

namespace EchoHost.Client.Fetch;

/// <summary>
/// File names for URLs: host and path (and query), made safe for any file system, and never the same twice
/// in one run. <c>http://google.com</c> becomes <c>google.com_index</c>, <c>https://a.org/x/y.html</c>
/// becomes <c>a.org_x_y.html</c>, and a second URL that maps to a taken name gets <c>-2</c>, <c>-3</c>...
/// </summary>
internal sealed class DownloadFileNames
{
    private const int MaxLength = 120;
    private readonly HashSet<string> _taken = new(StringComparer.OrdinalIgnoreCase);

    public string NameFor(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var path = url.AbsolutePath.EndsWith('/') ? url.AbsolutePath + "index" : url.AbsolutePath;
        var raw = url.IsDefaultPort ? url.Host : $"{url.Host}_{url.Port}";
        raw += path.Replace('/', '_');
        if (url.Query.Length > 1)
        {
            raw += "_" + url.Query[1..];
        }

        var name = Sanitize(raw);
        if (name.Length > MaxLength)
        {
            // Long names keep their start and end (the extension) and stay distinct through a hash of the URL.
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..8];
            name = $"{name[..(MaxLength - 30)]}-{hash}-{name[^20..]}";
        }

        return Reserve(name);
    }

    /// <summary>Takes a name chosen in an input file; false when this run already uses it.</summary>
    public bool TryTake(string name) => _taken.Add(name);

    /// <summary>A name that stays inside the output folder and shows in a listing: no separators, no leading dot.</summary>
    public static bool IsPlainName(string name) =>
        name is not ("." or "..") && !name.StartsWith('.') && name.Length <= 255 &&
        name.IndexOfAny(['/', '\\']) < 0 && !name.Any(char.IsControl);

    private string Reserve(string name)
    {
        var extension = Path.GetExtension(name);
        var stem = name[..^extension.Length];
        var candidate = name;
        for (var n = 2; !_taken.Add(candidate); n++)
        {
            candidate = $"{stem}-{n}{extension}";
        }

        return candidate;
    }

    private static string Sanitize(string raw)
    {
        var builder = new StringBuilder(raw.Length);
        foreach (var c in raw)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        return builder.ToString().TrimStart('.');
    }
}
