namespace EchoHost.Client.Fetch;

/// <summary>The output folder: its full path for writing, and its path as the command line gave it, for reports.</summary>
internal sealed class DownloadFolder(string asGiven)
{
    public string FullName { get; } = Path.GetFullPath(asGiven);

    public string FullPath(string fileName) => Path.Combine(FullName, fileName);

    public string AsWritten(string fileName) => Path.Combine(asGiven, fileName);
}
