using System.Net.Http.Headers;

namespace EchoHost.Client.Fetch;

/// <summary>
/// Where a download is written until it is whole: <c>.NAME.partial</c> in the output folder, hidden, never the
/// final name. Next to it, <c>.NAME.partial.validator</c> keeps the server's ETag or Last-Modified, which is what
/// makes resuming safe: the range request carries it in If-Range, so a file that changed on the server comes back
/// whole instead of spliced.
/// </summary>
internal sealed class PartialDownload(string directory, string fileName)
{
    public string Path { get; } = System.IO.Path.Combine(directory, $".{fileName}.partial");

    private string ValidatorPath => Path + ".validator";

    public long Length => File.Exists(Path) ? new FileInfo(Path).Length : 0;

    /// <summary>The range condition for resuming, or null when there is nothing to resume safely.</summary>
    public RangeConditionHeaderValue? ResumeCondition()
    {
        if (Length == 0 || !File.Exists(ValidatorPath))
        {
            return null;
        }

        var saved = File.ReadAllText(ValidatorPath).Trim();
        if (EntityTagHeaderValue.TryParse(saved, out var tag) && !tag.IsWeak)
        {
            return new RangeConditionHeaderValue(tag);
        }

        return DateTimeOffset.TryParse(saved, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var modified)
            ? new RangeConditionHeaderValue(modified)
            : null;
    }

    /// <summary>Remembers what identifies this version of the body: a strong ETag, else Last-Modified; forgets it when there is neither.</summary>
    public bool Remember(HttpResponseMessage response)
    {
        var validator = response.Headers.ETag is { IsWeak: false } tag
            ? tag.ToString()
            : response.Content.Headers.LastModified?.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (validator is null)
        {
            File.Delete(ValidatorPath);
            return false;
        }

        File.WriteAllText(ValidatorPath, validator);
        return true;
    }

    public void Discard()
    {
        File.Delete(Path);
        File.Delete(ValidatorPath);
    }

    /// <summary>Gives the whole file its final name; false when that name was taken meanwhile and may not be replaced.</summary>
    public bool Complete(string final, bool overwrite)
    {
        try
        {
            File.Move(Path, final, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(final))
        {
            return false;
        }

        File.Delete(ValidatorPath);
        return true;
    }
}
